"""Where each of the model's own columns came from, through the fast path's steps.

A tree or a linear model reads the columns its preprocessing outputs (scaled, imputed,
one-hot, reordered: ``FastScorer.model_columns``); an attribution is computed per such
column and summed onto the input column it came from (``sources``), so a one-hot group is
one input feature.
"""

from __future__ import annotations

from collections.abc import Sequence

from irisserve.scorers.preprocessing import Columns, Impute, OneHot, Step

__all__ = ["sources"]


def _step_sources(step: Step, inputs: list[int]) -> list[int]:
    """The input column behind each output column of one step."""
    if isinstance(step, Impute):
        return [inputs[i] for i in step.keep]
    if isinstance(step, OneHot):
        return [
            source
            for source, codes, drop in zip(inputs, step.categories, step.drop, strict=True)
            for code in range(len(codes))
            if code != drop
        ]
    if isinstance(step, Columns):
        out: list[int] = []
        for indices, steps in step.parts:
            out += sources(steps, [inputs[i] for i in indices])
        return out
    return inputs  # column for column: scalers, ordinal encoders


def sources(steps: Sequence[Step], inputs: list[int]) -> list[int]:
    """The input column behind each column ``steps`` output, from ``inputs``' columns."""
    for step in steps:
        inputs = _step_sources(step, inputs)
    return inputs

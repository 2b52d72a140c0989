"""Scores as a batch scored in numpy holds them, for the encoders' tests."""

from __future__ import annotations

import numpy as np

from irisserve.scorers.contract import Scores

__all__ = ["as_arrays"]


def as_arrays(scores: Scores) -> Scores:
    """``scores`` with each column an array: int64 labels, float64 scores."""
    return Scores(
        **{
            name: None if column is None else np.array(column, int if name == "labels" else float)
            for name, column in vars(scores).items()
        }
    )

"""Shared checks for the pickle-free scorers: like scikit-learn, and batch-invariant."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from hypothesis import strategies as st

from irisserve.packaging.check import TOLERANCE, scaled_difference
from irisserve.scorers.contract import Scores, as_list
from irisserve.scorers.fast import FastScorer, export, load

#: Batch sizes a row is scored in: alone and in small (pure Python) and large (numpy) batches.
SIZES = [*range(1, 21), 100]
FIELDS = ("labels", "probabilities", "decision", "values")


def cells(table: Any) -> list[list[Any]]:
    """Validated rows as the scorer gets them: NaN (scikit-learn's missing value) is None."""
    return [
        [None if isinstance(v, float) and math.isnan(v) else v for v in row]
        for row in np.asarray(table, dtype=object).tolist()
    ]


def exported(estimator: Any) -> FastScorer:
    """The estimator through its export files and back."""
    return load(export(estimator))


def per_row(scores: Scores) -> list[tuple[Any, ...]]:
    """The answer of each row: one tuple of its fields, in Python values."""
    columns = [None if c is None else as_list(c) for c in map(scores.__getattribute__, FIELDS)]
    count = len(next(c for c in columns if c is not None))
    return [tuple(None if c is None else c[i] for c in columns) for i in range(count)]


def assert_batch_invariant(
    scorer: FastScorer, rows: list[list[Any]], array: npt.NDArray[np.float64] | None = None
) -> Scores:
    """Each row answers bit-identically alone, in batches of every size, as lists or array."""
    alone = repr([per_row(scorer.score_rows([row]))[0] for row in rows])  # repr: NaN == NaN
    for size in [*SIZES, len(rows)]:
        together: list[tuple[Any, ...]] = []
        for start in range(0, len(rows), size):
            together += per_row(scorer.score_rows(rows[start : start + size]))
        assert repr(together) == alone, f"batch size {size}"
    whole = scorer.score_rows(rows)
    if array is not None:
        assert repr(per_row(scorer.score_rows(array))) == alone
    return whole


def assert_like_sklearn(estimator: Any, scores: Scores, table: Any) -> None:
    """Labels equal to ``predict``; scores within 1e-12 of scikit-learn's, on the scale
    ``irisserve.packaging.tolerance`` gives each (what any summation order guarantees)."""
    if scores.labels is not None:
        assert np.array_equal(estimator.classes_[scores.labels], estimator.predict(table))
    assert scaled_difference(estimator, scores, table) <= TOLERANCE


def assert_exact_scorer(estimator: Any, table: Any, *, numeric: bool = True) -> Scores:
    """Export, load, then both checks on ``table`` (a float array when ``numeric``)."""
    scorer = exported(estimator)
    array = np.asarray(table, dtype=np.float64) if numeric else None
    scores = assert_batch_invariant(scorer, cells(table), array)
    assert_like_sklearn(estimator, scores, table)
    return scores


def case_id(value: Any) -> str:
    """A readable test id: an estimator's class name, or a target's number of values."""
    return str(len(set(value))) if isinstance(value, np.ndarray) else type(value).__name__


def near(thresholds: list[float]) -> st.SearchStrategy[float]:
    """Values where a tree walk could go wrong: a threshold, its float64 neighbours, and its
    float32 rounding and neighbours (forests compare float32), or any value in between
    (infinite thresholds, which split missing values off, left out: scikit-learn refuses
    infinite inputs)."""
    thresholds = [t for t in thresholds if math.isfinite(t)]
    steps = [
        lambda t: t,
        lambda t: float(np.nextafter(t, np.inf)),
        lambda t: float(np.nextafter(t, -np.inf)),
        lambda t: float(np.float32(t)),
        lambda t: float(np.nextafter(np.float32(t), np.float32(np.inf))),
        lambda t: float(np.nextafter(np.float32(t), np.float32(-np.inf))),
    ]
    between = st.floats(min(thresholds, default=0.0) - 1, max(thresholds, default=0.0) + 1)
    if not thresholds:  # a feature no node splits
        return between
    return st.one_of(
        st.builds(lambda t, step: step(t), st.sampled_from(thresholds), st.sampled_from(steps)),
        between,
    )


def assert_rows_walk_exactly(estimator: Any, scorer: FastScorer, table: Any) -> None:
    """Each row of ``table`` alone (pure Python) answers as the whole table (numpy) and as
    scikit-learn."""
    rows = cells(table)
    alone = [per_row(scorer.score_rows([row]))[0] for row in rows]
    assert repr(alone) == repr(per_row(scorer.score_rows(np.asarray(table, dtype=np.float64))))
    assert_like_sklearn(estimator, scorer.score_rows(rows), table)

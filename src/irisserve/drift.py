"""Drift signals, pure numpy: inputs outside the training ranges, predicted class counts.

A value is out of range when it lies below ``min - margin * (max - min)`` or above
``max + margin * (max - min)``, with ``min``/``max`` from the manifest's training
statistics. Rows are still scored; the report says which rows and features to flag.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from irisserve.manifest import FeatureStatistics

__all__ = ["DriftReport", "class_counts", "out_of_range"]


@dataclass(frozen=True)
class DriftReport:
    """What a batch holds outside the training ranges.

    ``warnings`` maps a row index to that row's warnings and holds only flagged rows;
    ``counts`` maps a feature to how many rows have it out of range (only features
    with at least one); ``rows`` is how many rows have any feature out of range.
    """

    warnings: dict[int, list[dict[str, Any]]]
    counts: dict[str, int]
    rows: int


def _bounds(
    feature_names: Sequence[str], statistics: Mapping[str, FeatureStatistics], margin: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The accepted interval of each column; a feature without statistics is never flagged."""
    low = np.full(len(feature_names), -np.inf)
    high = np.full(len(feature_names), np.inf)
    for column, name in enumerate(feature_names):
        stats = statistics.get(name)
        if stats is not None:
            slack = margin * (stats.max - stats.min)
            low[column], high[column] = stats.min - slack, stats.max + slack
    return low, high


def out_of_range(
    rows: npt.NDArray[np.float64],
    feature_names: Sequence[str],
    statistics: Mapping[str, FeatureStatistics],
    margin: float,
) -> DriftReport:
    """Flag the values of ``rows`` (``(n, n_features)``) outside the widened training ranges."""
    low, high = _bounds(feature_names, statistics, margin)
    outside = (rows < low) | (rows > high)
    flagged_rows, flagged_columns = np.nonzero(outside)
    if flagged_rows.size == 0:
        return DriftReport(warnings={}, counts={}, rows=0)
    per_feature = outside.sum(axis=0).tolist()
    counts = {name: per_feature[c] for c, name in enumerate(feature_names) if per_feature[c]}
    templates = {}
    for column, name in enumerate(feature_names):
        if per_feature[column]:
            stats = statistics[name]
            templates[column] = (name, stats.min, stats.max, _message(name, stats, margin))
    warnings: dict[int, list[dict[str, Any]]] = {}
    values = rows[flagged_rows, flagged_columns].tolist()
    for row, column, value in zip(
        flagged_rows.tolist(), flagged_columns.tolist(), values, strict=True
    ):
        name, training_min, training_max, message = templates[column]
        warnings.setdefault(row, []).append(
            {
                "feature": name,
                "value": value,
                "training_min": training_min,
                "training_max": training_max,
                "message": message,
            }
        )
    return DriftReport(warnings=warnings, counts=counts, rows=len(warnings))


def _message(name: str, stats: FeatureStatistics, margin: float) -> str:
    return (
        f"{name} is outside its training range [{stats.min!r}, {stats.max!r}] by more than "
        f"{margin * 100:g}% of that range; the prediction is an extrapolation"
    )


def class_counts(
    labels: Sequence[int] | npt.NDArray[np.int64], class_names: Sequence[str]
) -> dict[str, int]:
    """How many rows were predicted as each class (every class, zeros included)."""
    counts = np.bincount(labels, minlength=len(class_names)).tolist()
    return dict(zip(class_names, counts, strict=True))

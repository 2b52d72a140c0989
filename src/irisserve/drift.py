"""Drift signals: inputs outside the training ranges, unseen categories, predicted class counts.

A numeric value is out of range when it lies below ``min - margin * (max - min)`` or above
``max + margin * (max - min)``, with ``min``/``max`` from the manifest's training
statistics; a missing value never is. A categorical value is unseen when it is not one of
the training categories (only an estimator that ignores unknown categories gets one:
validation refuses it for the others). Rows are still scored; the report says which rows
and features to flag.

Like ``irisserve.artifact.model``, this takes what validation produced: Python lists for a few
rows, checked without importing numpy (a cold single-row request does not pay for it),
a float64 array for many, checked vectorised, or the lists of a large batch with
categories, whose numeric columns are checked vectorised too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from irisserve.artifact.manifest import CATEGORICAL, Feature, FeatureStatistics
from irisserve.schema import PURE_PYTHON_ROWS, Cell

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["DriftReport", "class_counts", "drift", "out_of_range", "unseen_categories"]

#: Models whose bounds and names are kept (``_bounds``, ``_names``; the model's own objects
#: are kept with them, so an id is never another's): a process serves one; tests open many.
_CACHED_MODELS = 8
_NUMBERS = (int, float)
_BOUNDS: dict[tuple[Any, ...], tuple[Any, tuple[list[float], list[float], list[int]]]] = {}
_NAMES: dict[int, tuple[Any, tuple[list[str], bool]]] = {}


@dataclass(frozen=True)
class DriftReport:
    """What a batch holds outside the training ranges.

    ``warnings`` maps a row index to that row's warnings and holds only flagged rows;
    ``counts`` maps a feature to how many rows have it out of range (only features
    with at least one); ``rows`` is how many rows have any feature out of range;
    ``unseen`` maps a categorical feature to how many rows hold a category it never saw.
    """

    warnings: dict[int, list[dict[str, Any]]]
    counts: dict[str, int]
    rows: int
    unseen: dict[str, int] = field(default_factory=dict)


def _bounds(
    feature_names: Sequence[str], statistics: Mapping[str, FeatureStatistics], margin: float
) -> tuple[list[float], list[float], list[int]]:
    """The accepted interval of each column, and the columns that have one; a feature without
    statistics is never flagged. Computed once per model (``_BOUNDS``)."""
    key = (tuple(feature_names), id(statistics), margin)
    cached = _BOUNDS.get(key)
    if cached is not None and cached[0] is statistics:
        return cached[1]
    low, high = [-math.inf] * len(feature_names), [math.inf] * len(feature_names)
    for column, name in enumerate(feature_names):
        stats = statistics.get(name)
        if stats is not None:
            slack = margin * (stats.max - stats.min)
            low[column], high[column] = stats.min - slack, stats.max + slack
    columns = [c for c in range(len(low)) if low[c] != -math.inf or high[c] != math.inf]
    if len(_BOUNDS) >= _CACHED_MODELS:
        _BOUNDS.clear()
    _BOUNDS[key] = (statistics, (low, high, columns))
    return low, high, columns


def _flagged(
    rows: Sequence[Sequence[Cell]] | npt.NDArray[np.float64],
    low: list[float],
    high: list[float],
    columns: list[int],
) -> list[tuple[int, int, float]]:
    """(row, column, value) of every value out of range, row by row, columns in order.

    Only ``columns`` (those with statistics: numeric ones) are checked; a missing value never is.
    """
    if isinstance(rows, Sequence):
        checked = _float_columns(rows, columns)
        if checked is None:
            return [
                (r, c, value)
                for r, row in enumerate(rows)
                for c in columns
                if isinstance(value := row[c], _NUMBERS) and not low[c] <= value <= high[c]
            ]
        rows, low, high = checked, [low[c] for c in columns], [high[c] for c in columns]
    else:
        columns = list(range(len(low)))
    import numpy as np

    flagged_rows, flagged_columns = np.nonzero((rows < low) | (rows > high))
    values = rows[flagged_rows, flagged_columns].tolist()
    named = [columns[c] for c in flagged_columns.tolist()]
    return list(zip(flagged_rows.tolist(), named, values, strict=True))


def _float_columns(
    rows: Sequence[Sequence[Cell]], columns: list[int]
) -> npt.NDArray[np.float64] | None:
    """``columns`` of a large batch of lists as a float64 array (NaN for a missing value), when
    they hold only floats and missing values; else ``None`` (a few rows, or other cells)."""
    if len(rows) <= PURE_PYTHON_ROWS or not columns:
        return None
    import numpy as np

    picked = [values for c, values in enumerate(zip(*rows, strict=True)) if c in columns]
    if not set(map(type, chain.from_iterable(picked))) <= {float, type(None)}:
        return None
    return np.array(picked, dtype=np.float64).T


def out_of_range(
    rows: Sequence[Sequence[Cell]] | npt.NDArray[np.float64],
    feature_names: Sequence[str],
    statistics: Mapping[str, FeatureStatistics],
    margin: float,
) -> DriftReport:
    """Flag the values of ``rows`` (``n`` rows of ``n_features``) outside the widened ranges."""
    flagged = _flagged(rows, *_bounds(feature_names, statistics, margin))
    if not flagged:
        return DriftReport(warnings={}, counts={}, rows=0)
    templates: dict[int, tuple[str, float, float, str]] = {}
    per_column: dict[int, int] = {}
    warnings: dict[int, list[dict[str, Any]]] = {}
    for row, column, value in flagged:
        if column not in templates:
            name, stats = feature_names[column], statistics[feature_names[column]]
            templates[column] = (name, stats.min, stats.max, _message(name, stats, margin))
        name, training_min, training_max, message = templates[column]
        per_column[column] = per_column.get(column, 0) + 1
        warnings.setdefault(row, []).append(
            {
                "feature": name,
                "value": value,
                "training_min": training_min,
                "training_max": training_max,
                "message": message,
            }
        )
    counts = {feature_names[column]: n for column, n in sorted(per_column.items())}
    return DriftReport(warnings=warnings, counts=counts, rows=len(warnings))


def _message(name: str, stats: FeatureStatistics, margin: float) -> str:
    return (
        f"{name} is outside its training range [{stats.min!r}, {stats.max!r}] by more than "
        f"{margin * 100:g}% of that range; the prediction is an extrapolation"
    )


def _names(features: Sequence[Feature]) -> tuple[list[str], bool]:
    """The features' names, and whether any is categorical. Computed once per model."""
    cached = _NAMES.get(id(features))
    if cached is not None and cached[0] is features:
        return cached[1]
    found = [f.name for f in features], any(f.type == CATEGORICAL for f in features)
    if len(_NAMES) >= _CACHED_MODELS:
        _NAMES.clear()
    _NAMES[id(features)] = (features, found)
    return found


def unseen_categories(
    rows: Sequence[Sequence[Cell]] | npt.NDArray[np.float64], features: Sequence[Feature]
) -> DriftReport:
    """Flag the categorical values of ``rows`` that training never saw (lists only: a
    float64 array holds no categories)."""
    known = {
        column: set(feature.categories or ())
        for column, feature in enumerate(features)
        if feature.type == CATEGORICAL
    }
    warnings: dict[int, list[dict[str, Any]]] = {}
    counts: dict[str, int] = {}
    if not known or not isinstance(rows, Sequence):
        return DriftReport(warnings={}, counts={}, rows=0)
    # Only the columns holding a value outside their categories are gone through row by row.
    known = {
        column: categories
        for column, categories in known.items()
        if not set(map(itemgetter(column), rows)) - {None} <= categories
    }
    for r, row in enumerate(rows if known else ()):
        for column, categories in known.items():
            value = row[column]
            if value is None or value in categories:
                continue
            name = features[column].name
            counts[name] = counts.get(name, 0) + 1
            warnings.setdefault(r, []).append(
                {
                    "feature": name,
                    "value": value,
                    "message": f"{name} {value!r} is a category not seen in training; "
                    "the model scores it as none of the known ones",
                }
            )
    ordered = {f.name: counts[f.name] for f in features if f.name in counts}
    return DriftReport(warnings=warnings, counts={}, rows=0, unseen=ordered)


def drift(
    rows: Sequence[Sequence[Cell]] | npt.NDArray[np.float64],
    features: Sequence[Feature],
    statistics: Mapping[str, FeatureStatistics],
    margin: float,
) -> DriftReport:
    """Both signals at once: numeric values out of range and unseen categories."""
    names, categorical = _names(features)
    ranges = out_of_range(rows, names, statistics, margin)
    if not categorical:
        return ranges
    unseen = unseen_categories(rows, features)
    if not unseen.unseen:
        return ranges
    warnings = {row: list(items) for row, items in ranges.warnings.items()}
    for row, items in unseen.warnings.items():
        warnings.setdefault(row, []).extend(items)
    return DriftReport(
        warnings=dict(sorted(warnings.items())),
        counts=ranges.counts,
        rows=ranges.rows,
        unseen=unseen.unseen,
    )


def class_counts(
    labels: Sequence[int] | npt.NDArray[np.int64], class_names: Sequence[str]
) -> dict[str, int]:
    """How many rows were predicted as each class (every class, zeros included)."""
    if isinstance(labels, list):
        counts = [0] * len(class_names)
        for label in labels:
            counts[label] += 1
    else:
        import numpy as np

        counts = np.bincount(labels, minlength=len(class_names)).tolist()
    return dict(zip(class_names, counts, strict=True))

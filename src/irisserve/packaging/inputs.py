"""Describe a fitted estimator and its training rows: the input schema and the task.

Packaging-time only (it imports pandas, which serving never does). Each column, in the
estimator's order (``feature_names_in_``), is numeric (with its training statistics),
categorical (with the categories seen in training) or text (a column a text vectorizer
reads: strings, none recorded); whether it accepts a missing value,
and whether an unseen category is refused or scored, is found by asking the estimator
itself (``probe``), through the scorer that will serve it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from irisserve.artifact.manifest import (
    CATEGORICAL,
    CLASSIFICATION,
    NUMERIC,
    REGRESSION,
    TEXT,
    Feature,
    FeatureStatistics,
    Task,
)
from irisserve.packaging.errors import PackagingError
from irisserve.schema import Cell
from irisserve.scorers.estimator import SklearnScorer

__all__ = [
    "PackagingError",
    "cells",
    "check_estimator",
    "features",
    "frame",
    "probe",
    "statistics",
    "task",
]


#: The value probed as "a category never seen in training".
UNSEEN = "__irisserve_unseen__"


def check_estimator(estimator: Any) -> None:
    """Refuse what cannot be served: no ``predict``, or not fitted."""
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if not callable(getattr(estimator, "predict", None)):
        raise PackagingError(f"{type(estimator).__name__} has no predict method; nothing to serve")
    try:
        check_is_fitted(estimator)
    except (NotFittedError, TypeError) as exc:
        raise PackagingError(f"{type(estimator).__name__} is not fitted: {exc}") from exc


def frame(estimator: Any, x: Any) -> Any:
    """``x`` as a DataFrame whose columns are the estimator's, in its order."""
    import numpy as np
    import pandas as pd

    fitted = getattr(estimator, "feature_names_in_", None)
    names = None if fitted is None else [str(name) for name in fitted]
    if isinstance(x, pd.DataFrame):
        data = x
        if names is None:
            names = [str(column) for column in data.columns]
        missing = [name for name in names if name not in data.columns]
        if missing:
            raise PackagingError(f"the training rows have no column {missing[0]!r}")
        data = data[names]
    else:
        array = np.asarray(x)
        if array.ndim != 2:
            raise PackagingError(f"the training rows must be 2-D, got shape {array.shape}")
        names = names or [f"x{i}" for i in range(array.shape[1])]
        data = pd.DataFrame(array, columns=names)
    expected = getattr(estimator, "n_features_in_", len(names))
    if len(names) != expected:
        raise PackagingError(
            f"the estimator takes {expected} features, the training rows have {len(names)}"
        )
    if len(data) == 0:
        raise PackagingError("the training rows are empty")
    return data


def _python(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _feature(name: str, column: Any) -> Feature:
    import pandas as pd
    from pandas.api import types

    dtype = column.dtype
    categorical = isinstance(dtype, pd.CategoricalDtype)
    if types.is_numeric_dtype(dtype) and not types.is_bool_dtype(dtype):
        return Feature(name, NUMERIC)
    if not (categorical or types.is_object_dtype(dtype) or types.is_string_dtype(dtype)):
        raise PackagingError(
            f"column {name!r} has dtype {dtype}, which irisserve cannot describe: "
            "convert it to numbers or strings"
        )
    if categorical:
        values = [_python(v) for v in dtype.categories]
    else:
        present = {_python(v) for v in column.dropna()}
        values = sorted(present, key=lambda v: (type(v).__name__, v))
    kinds = {type(v) for v in values}
    if not values or not (kinds == {str} or kinds <= {int, float}):
        raise PackagingError(
            f"column {name!r} holds {sorted(k.__name__ for k in kinds) or 'no values'}: "
            "a categorical column must hold strings (or only numbers)"
        )
    return Feature(name, CATEGORICAL, categories=values)


def _text(name: str, column: Any) -> Feature:
    """A text column: strings (or missing values), none of them recorded."""
    import pandas as pd

    kinds = sorted({type(v).__name__ for v in column if not pd.isna(v)} - {"str"})
    if kinds:
        raise PackagingError(
            f"column {name!r} is read by a text vectorizer, but holds {kinds[0]} values: "
            "a text column must hold strings"
        )
    return Feature(name, TEXT, unknown="ignore")


def features(data: Any, text: frozenset[str] = frozenset()) -> list[Feature]:
    """Each column's kind (numeric or categorical; text for the ``text`` columns); nullable
    and unknown come from ``probe``."""
    return [
        _text(str(name), data[name]) if name in text else _feature(str(name), data[name])
        for name in data.columns
    ]


def statistics(data: Any, schema: Sequence[Feature]) -> dict[str, FeatureStatistics]:
    """min, max, mean and (population) std of each numeric column's present values."""
    stats = {}
    for feature in schema:
        if feature.type != NUMERIC:
            continue
        values = data[feature.name].dropna().to_numpy(dtype="float64")
        if len(values):
            stats[feature.name] = FeatureStatistics(
                min=float(values.min()),
                max=float(values.max()),
                mean=float(values.mean()),
                std=float(values.std()),
            )
    return stats


def task(estimator: Any, output: str, target: Any = None) -> Task:
    """Classification (``classes_``, and how it scores) or regression (target range)."""
    import numpy as np

    classes = getattr(estimator, "classes_", None)
    if classes is not None:
        values = [_python(c) for c in classes]
        if len(values) < 2:
            raise PackagingError("a classifier needs at least two classes")
        scores = next(
            (
                method
                for method in ("predict_proba", "decision_function")
                if callable(getattr(estimator, method, None))
            ),
            None,
        )
        return Task(CLASSIFICATION, classes=values, scores=scores)
    target_stats = None
    if target is not None:
        y = np.asarray(target, dtype=np.float64)
        target_stats = FeatureStatistics(
            min=float(y.min()), max=float(y.max()), mean=float(y.mean()), std=float(y.std())
        )
    return Task(REGRESSION, output=output, target=target_stats)


def cells(data: Any, schema: Sequence[Feature]) -> list[list[Cell]]:
    """The rows as validated cells: floats, categories as Python values, ``None`` if missing."""
    import pandas as pd

    columns = []
    for feature in schema:
        column = data[feature.name]
        if feature.type == NUMERIC:
            values = column.to_numpy(dtype="float64", na_value=float("nan")).tolist()
            columns.append([v if math.isfinite(v) else None for v in values])
        else:
            columns.append([None if pd.isna(v) else _python(v) for v in column.tolist()])
    return [list(row) for row in zip(*columns, strict=True)]


def _accepts(scorer: SklearnScorer, row: list[Cell]) -> bool:
    """Whether the estimator scores ``row`` into finite numbers."""
    import numpy as np

    try:
        scores = scorer.score_rows([row])
    except Exception:  # whatever the estimator raises, it refuses this row
        return False
    numbers = [scores.probabilities, scores.decision, [scores.values or []]]
    return all(bool(np.isfinite(np.asarray(n, dtype=np.float64)).all()) for n in numbers if n)


def _complete_row(rows: Sequence[Sequence[Cell]], width: int) -> list[Cell]:
    """A row with a value in every column: each column's first present value."""
    row: list[Cell] = []
    for column in range(width):
        value = next((r[column] for r in rows if r[column] is not None), None)
        if value is None:
            raise PackagingError(f"column {column} holds no value in any training row")
        row.append(value)
    return row


def probe(
    estimator: Any, schema: Sequence[Feature], target: Task, rows: Sequence[Sequence[Cell]]
) -> list[Feature]:
    """The schema with ``nullable`` and ``unknown`` as the estimator behaves.

    A feature is nullable when the estimator scores a row missing only that value; a
    categorical feature's unseen categories are ``ignore`` d when it scores a row holding
    one, else refused (``error``).
    """
    draft = tuple(replace(f, nullable=True, unknown="ignore") for f in schema)
    scorer = SklearnScorer(estimator, draft, target)
    base = _complete_row(rows, len(schema))
    probed = []
    for column, feature in enumerate(schema):
        missing = [*base[:column], None, *base[column + 1 :]]
        nullable = _accepts(scorer, missing)
        unknown = feature.unknown if feature.type == TEXT else "error"
        if feature.type == CATEGORICAL:
            categories = feature.categories or []
            unseen: Cell = (
                UNSEEN
                if all(type(c) is str for c in categories)
                else max(float(c) for c in categories) + 1.0
            )
            changed = [*base[:column], unseen, *base[column + 1 :]]
            unknown = "ignore" if _accepts(scorer, changed) else "error"
        probed.append(replace(feature, nullable=nullable, unknown=unknown))
    return probed

"""irisserve.scorers.check: the packaging check passes exact exports, and says why not."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from irisserve.scorers import FastScorer
from irisserve.scorers.check import agreement, sklearn_table
from tests.scorer_checks import cells, exported

RNG = np.random.default_rng(21)
X = RNG.normal(size=(200, 3))
LABELS = np.digitize(X[:, 0], [-0.3, 0.3])


@pytest.fixture(scope="module")
def model() -> Any:
    return LogisticRegression().fit(X, LABELS)


def _nudged(scorer: FastScorer, factor: float) -> FastScorer:
    model = scorer.model
    coef = [[w * factor for w in row] for row in model.coef]  # type: ignore[union-attr]
    return dataclasses.replace(scorer, model=dataclasses.replace(model, coef=coef))


def test_an_exact_export_agrees(model: Any) -> None:
    result = agreement(model, exported(model), cells(X))
    assert result.exact
    assert result.reason is None
    assert result.rows_checked == 200
    assert result.max_relative_difference <= 1e-12
    assert result.as_manifest()["exact"] is True


def test_scores_off_by_more_than_the_tolerance_are_refused(model: Any) -> None:
    result = agreement(model, _nudged(exported(model), 1 + 1e-9), cells(X))
    assert not result.exact
    assert result.reason is not None
    assert "relative" in result.reason


def test_different_labels_are_refused(model: Any) -> None:
    result = agreement(model, _nudged(exported(model), -1.0), cells(X))
    assert result.reason == "its labels differ from scikit-learn's"


def test_regression_values_and_mixed_tables() -> None:
    table = np.empty((120, 2), dtype=object)
    table[:, 0] = RNG.normal(size=120)
    table[:, 1] = np.array(["a", "b", "c"], dtype=object)[RNG.integers(0, 3, 120)]
    target = table[:, 0].astype(float) + (table[:, 1] == "a")
    forest = make_pipeline(
        ColumnTransformer([("c", OneHotEncoder(), [1])], remainder="passthrough"),
        RandomForestRegressor(n_estimators=3, random_state=0),
    ).fit(table, target)
    rows = cells(table)
    assert sklearn_table(rows).dtype == object
    assert agreement(forest, exported(forest), rows).max_relative_difference == 0.0


def test_the_sklearn_table_marks_missing_cells_nan() -> None:
    table = sklearn_table([[1, None], [2.5, 3.0]])
    assert table.dtype == np.float64
    assert math.isnan(table[0, 1])

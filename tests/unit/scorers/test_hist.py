"""irisserve.scorers.hist: histogram gradient boosting, with missing values and native
categorical features, answers like scikit-learn."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from irisserve.scorers.fast import NotExportable, export
from tests.helpers.scorer_checks import (
    assert_exact_scorer,
    assert_rows_walk_exactly,
    case_id,
    exported,
    near,
)

RNG = np.random.default_rng(9)


def _table(n: int, categories: int, missing: float) -> Any:
    table = RNG.normal(size=(n, 3))
    table[:, 2] = RNG.integers(0, categories, n)
    table[RNG.random(n) < missing, 0] = np.nan
    table[RNG.random(n) < missing, 2] = np.nan
    return table


X = _table(400, 6, 0.1)
SIGNAL = (np.nan_to_num(X[:, 0]) > 0) ^ (X[:, 2] % 2 == 1)
BINARY = SIGNAL.astype(int)
THREE = BINARY + (X[:, 1] > 0.5)
TARGET = SIGNAL * 2.0 + X[:, 1] + 3.0
#: Unseen categories (6..8), a negative one, missing values in both kinds of feature.
ROWS = _table(200, 9, 0.2)
ROWS[:10, 2] = -1.0


@pytest.mark.parametrize(
    ("estimator", "target"),
    [
        (HistGradientBoostingClassifier(max_iter=12, categorical_features=[2]), BINARY),
        (HistGradientBoostingClassifier(max_iter=8, categorical_features=[2]), THREE),
        (HistGradientBoostingClassifier(max_iter=12), BINARY),
        (HistGradientBoostingRegressor(max_iter=12, categorical_features=[2]), TARGET),
        (HistGradientBoostingRegressor(max_iter=12, loss="poisson"), TARGET),
        (HistGradientBoostingRegressor(max_iter=5, loss="absolute_error"), TARGET),
    ],
    ids=case_id,
)
def test_hist_gradient_boosting_answers_like_sklearn(estimator: Any, target: Any) -> None:
    estimator.fit(X, target)
    assert_exact_scorer(estimator, ROWS)


def test_a_model_with_categorical_splits_uses_them() -> None:
    estimator = HistGradientBoostingClassifier(max_iter=5, categorical_features=[2])
    estimator.fit(X, BINARY)
    assert any(n["is_categorical"] for p in estimator._predictors for n in p[0].nodes)
    assert_exact_scorer(estimator, ROWS)


def test_a_loss_without_an_exact_link_is_not_exported() -> None:
    estimator = HistGradientBoostingRegressor(max_iter=2, loss="gamma").fit(X, TARGET)
    estimator._loss.link = object()  # a link this exporter does not know
    with pytest.raises(NotExportable, match="link"):
        export(estimator)


CATEGORICAL = HistGradientBoostingClassifier(max_iter=6, categorical_features=[2]).fit(X, THREE)
CATEGORICAL_SCORER = exported(CATEGORICAL)


def _numeric_thresholds(feature: int) -> list[float]:
    return [
        float(node["num_threshold"])
        for iteration in CATEGORICAL._predictors
        for predictor in iteration
        for node in predictor.nodes
        if not node["is_leaf"] and not node["is_categorical"] and node["feature_idx"] == feature
    ]


@given(
    rows=st.lists(
        st.tuples(
            near(_numeric_thresholds(0)) | st.just(np.nan),
            near(_numeric_thresholds(1)),
            # known, unseen, negative, fractional and too large categories, and missing
            st.sampled_from([*range(-1, 9), 2.5, 300.0, np.nan]),
        ).map(list),
        min_size=1,
        max_size=12,
    )
)
def test_rows_with_any_category_walk_like_sklearn(rows: list[list[float]]) -> None:
    assert_rows_walk_exactly(CATEGORICAL, CATEGORICAL_SCORER, np.array(rows))

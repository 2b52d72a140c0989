"""irisserve.scorers._xgboost: XGBoost's models served pickle-free answer as xgboost does,
bit for bit, and what cannot be is refused saying so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost as xgb
from hypothesis import given, settings
from hypothesis import strategies as st

from irisserve.scorers.boosters import booster_covers
from irisserve.scorers.fast import NotExportable, export, load
from tests.helpers.boosters import (
    assert_inner_covers_add_up,
    assert_pipeline_with_one_hot_columns_served,
    assert_refused,
    assert_same_anywhere_in_any_batch,
    assert_served_exactly,
    assert_served_without_the_library,
    assert_walks_like_the_library,
    categorical_table,
    categories_above_255,
    unseen_category_rows,
)
from tests.helpers.scorer_checks import case_id, near

RNG = np.random.default_rng(26)


def _table(n: int, missing: float) -> Any:
    table = RNG.normal(size=(n, 4))
    table[RNG.random(n) < missing, 0] = np.nan
    table[RNG.random(n) < missing, 3] = np.nan
    return table


X = _table(400, 0.1)
BINARY = (np.nan_to_num(X[:, 0]) + X[:, 1] > 0).astype(int)
THREE = BINARY + (X[:, 2] > 0.3)
TARGET = 2.0 * X[:, 1] + np.nan_to_num(X[:, 0]) + 3.0
#: Wider than training, with missing values in every kind of feature.
ROWS = _table(300, 0.2) * 2


def _small(model: Any) -> Any:
    return model.set_params(n_estimators=12, max_depth=3, n_jobs=1)


@pytest.mark.parametrize(
    ("model", "target"),
    [
        (xgb.XGBClassifier(), BINARY),
        (xgb.XGBClassifier(), THREE),
        (xgb.XGBRegressor(), TARGET),
        (xgb.XGBRegressor(objective="reg:pseudohubererror"), TARGET),
        (xgb.XGBRegressor(objective="reg:absoluteerror"), TARGET),
        (xgb.XGBRegressor(objective="reg:quantileerror", quantile_alpha=0.3), TARGET),
        (xgb.XGBRegressor(objective="reg:logistic"), BINARY * 0.8 + 0.1),
        (xgb.XGBClassifier(base_score=0.3, learning_rate=0.5), BINARY),
        (xgb.XGBRFClassifier(), THREE),  # parallel trees
        (xgb.XGBClassifier(tree_method="exact", gamma=2.0), BINARY),  # pruned: deleted nodes
    ],
    ids=case_id,
)
def test_models_answer_as_xgboost_bit_for_bit(model: Any, target: Any) -> None:
    _small(model).fit(X, target)
    assert_served_exactly(model, ROWS)


def test_the_base_margin_is_xgboost_s_own() -> None:
    # glibc's logf(1 / 0.02179 - 1) is one float32 above the correctly rounded log: a
    # margin computed from base_score in Python would be off by that much
    model = _small(xgb.XGBClassifier(base_score=0.02179)).fit(X, BINARY)
    assert_served_exactly(model, ROWS)


def test_a_pipeline_with_a_scaler_and_one_hot_columns() -> None:
    assert_pipeline_with_one_hot_columns_served(_small(xgb.XGBClassifier()), X, THREE, RNG)


def test_early_stopping_serves_the_best_iteration() -> None:
    model = xgb.XGBClassifier(n_estimators=60, max_depth=3, early_stopping_rounds=2, n_jobs=1)
    model.fit(X[:300], BINARY[:300], eval_set=[(X[300:], BINARY[300:])], verbose=False)
    assert model.best_iteration < 59  # the wrapper predicts with fewer trees than it holds
    assert_served_exactly(model, ROWS)


MULTICLASS = _small(xgb.XGBClassifier()).fit(X, THREE)
MULTICLASS_SCORER = load(export(MULTICLASS))


def _thresholds(feature: int) -> list[float]:
    trees = json.loads(MULTICLASS.get_booster().save_raw("json"))["learner"]
    return [
        float(t)
        for tree in trees["gradient_booster"]["model"]["trees"]
        for t, f, left in zip(
            tree["split_conditions"], tree["split_indices"], tree["left_children"], strict=True
        )
        if left != -1 and f == feature
    ]


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(*[near(_thresholds(f)) | st.just(np.nan) for f in range(4)]).map(list),
        min_size=1,
        max_size=10,
    )
)
def test_rows_at_float32_threshold_neighbours_walk_like_xgboost(rows: list[list[float]]) -> None:
    assert_walks_like_the_library(MULTICLASS, MULTICLASS_SCORER, rows)


@pytest.mark.parametrize("size", [1, 3, 9, 57, 250])
def test_a_row_answers_the_same_anywhere_in_any_batch(size: int) -> None:
    assert_same_anywhere_in_any_batch(MULTICLASS_SCORER, ROWS, size, RNG)


def test_serving_imports_no_xgboost(tmp_path: Path) -> None:
    assert_served_without_the_library(MULTICLASS, tmp_path, ROWS[:50])


def test_covers_follow_the_exported_nodes() -> None:
    covers = booster_covers(MULTICLASS)
    assert_inner_covers_add_up(export(MULTICLASS), covers, rtol=1e-4)


def _ranker() -> Any:
    model = xgb.XGBRanker(n_estimators=2, objective="rank:pairwise")
    return model.fit(X, BINARY, qid=np.repeat(np.arange(40), 10))


def _squared(predt: Any, dtrain: Any) -> tuple[Any, Any]:
    return predt - dtrain, np.ones_like(predt)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_ranker, "objective rank:pairwise"),
        (lambda: xgb.XGBRegressor(n_estimators=2, missing=0.0).fit(X, TARGET), "missing=0.0"),
        (lambda: xgb.XGBRegressor(n_estimators=2, objective=_squared).fit(X, TARGET), "custom"),
        (lambda: xgb.XGBRegressor(n_estimators=2, booster="gblinear").fit(X, TARGET), "gblinear"),
        (lambda: xgb.XGBRegressor(n_estimators=2, booster="dart").fit(X, TARGET), "dart"),
        (
            lambda: xgb.XGBRegressor(n_estimators=2, multi_strategy="multi_output_tree").fit(
                X, np.column_stack([TARGET, -TARGET])
            ),
            "multi-output tree",
        ),
        (
            lambda: xgb.XGBRegressor(n_estimators=2).fit(X, np.column_stack([TARGET, TARGET])),
            "multi-target",
        ),
        (
            lambda: xgb.XGBClassifier(n_estimators=2, objective="multi:softmax").fit(X, THREE),
            "multi:softmax",
        ),
    ],
)
def test_what_cannot_be_served_exactly_is_refused(make: Any, message: str) -> None:
    assert_refused(make, message, "xgboost")


CATEGORICAL_X = categorical_table(RNG, 500, 8)
CATEGORICAL = xgb.XGBClassifier(
    n_estimators=10, max_depth=3, enable_categorical=True, feature_types=["q", "q", "c"]
)
CATEGORICAL.fit(
    CATEGORICAL_X,
    ((CATEGORICAL_X[:, 2] % 3 == 0) ^ (CATEGORICAL_X[:, 0] > 0)) + (CATEGORICAL_X[:, 1] > 1),
)
CATEGORICAL_SCORER = load(export(CATEGORICAL))


def test_categorical_splits_answer_as_xgboost() -> None:
    trees = json.loads(CATEGORICAL.get_booster().save_raw("json"))["learner"]
    assert any(any(t["split_type"]) for t in trees["gradient_booster"]["model"]["trees"])
    rows = unseen_category_rows(RNG)  # unseen categories 8..11, and -1
    assert_served_exactly(CATEGORICAL, rows)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.floats(-3, 3) | st.just(np.nan),
            st.floats(-3, 3),
            # known, unseen, negative (also one float32 rounds to -0.0), fractional, values
            # float32 rounds to 256, huge, missing
            st.sampled_from(
                [*range(-2, 12), -0.5, -0.0, -1e-50, 2.5, 7.9, 255.99999999, 300.0, 1e10, np.nan]
            ),
        ).map(list),
        min_size=1,
        max_size=10,
    )
)
def test_rows_with_any_category_walk_like_xgboost(rows: list[list[float]]) -> None:
    assert_walks_like_the_library(CATEGORICAL, CATEGORICAL_SCORER, rows)


def test_one_hot_categorical_splits_answer_as_xgboost() -> None:
    model = xgb.XGBClassifier(
        n_estimators=6, max_depth=3, enable_categorical=True, feature_types=["q", "q", "c"]
    )
    model.set_params(max_cat_to_onehot=10)  # one category against the rest
    model.fit(CATEGORICAL_X, (CATEGORICAL_X[:, 2] % 3 == 0) ^ (CATEGORICAL_X[:, 0] > 0))
    rows = unseen_category_rows(RNG)  # unseen categories 8..11, and -1
    assert_served_exactly(model, rows)


def test_a_category_above_255_is_refused() -> None:
    table = categories_above_255(RNG)
    model = xgb.XGBClassifier(
        n_estimators=3, enable_categorical=True, feature_types=["q", "q", "c"]
    )
    model.fit(table, (table[:, 2] % 2 == 0).astype(int))
    with pytest.raises(NotExportable, match="above 255"):
        export(model)


def test_pandas_categories_that_xgboost_re_encodes_are_refused() -> None:
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({"a": X[:, 1], "c": pandas.Categorical(RNG.choice(["x", "y"], 400))})
    model = xgb.XGBClassifier(n_estimators=3, enable_categorical=True)
    model.fit(frame, (frame["c"] == "x").to_numpy().astype(int))
    with pytest.raises(NotExportable, match="re-encodes pandas categories"):
        export(model)


@pytest.mark.parametrize(
    ("model", "target"),
    [(xgb.XGBClassifier(), BINARY), (xgb.XGBRegressor(objective="reg:logistic"), BINARY * 0.8)],
    ids=["binary:logistic", "reg:logistic"],
)
def test_a_logistic_model_fitted_on_a_data_frame_exports(model: Any, target: Any) -> None:
    # Its base margin is read from xgboost with an unnamed row: the names must not matter.
    import pandas as pd

    _small(model).fit(pd.DataFrame(X, columns=["a", "b", "c", "d"]), target)
    assert_served_exactly(model, ROWS)

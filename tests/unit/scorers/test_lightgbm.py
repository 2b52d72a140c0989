"""irisserve.scorers._lightgbm: LightGBM's models served pickle-free answer as lightgbm
does, and what cannot be is refused saying so."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder

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


def _table(n: int, missing: float, columns: tuple[int, ...]) -> Any:
    table = RNG.normal(size=(n, 4))
    for column in columns:
        table[RNG.random(n) < missing, column] = np.nan
    return table


#: Missing values in training in feature 0 only (its splits send NaN their default way;
#: the others' take NaN as 0.0); the served rows have them in features 0 and 3.
X = _table(400, 0.1, (0,))
BINARY = (np.nan_to_num(X[:, 0]) + X[:, 1] > 0).astype(int)
THREE = BINARY + (X[:, 3] > 0.3)
TARGET = 2.0 * X[:, 1] + np.nan_to_num(X[:, 0]) + X[:, 3] + 3.0
ROWS = _table(300, 0.2, (0, 3)) * 2


def _small(model: Any) -> Any:
    return model.set_params(n_estimators=12, num_leaves=7, min_child_samples=5, verbose=-1)


@pytest.mark.parametrize(
    ("model", "target"),
    [
        (lgb.LGBMClassifier(), BINARY),
        (lgb.LGBMClassifier(), THREE),
        (lgb.LGBMRegressor(), TARGET),
        (lgb.LGBMRegressor(objective="poisson"), np.exp(X[:, 1])),
        (lgb.LGBMRegressor(objective="huber", learning_rate=0.3), TARGET),
        *[(lgb.LGBMRegressor(objective=o), np.exp(X[:, 1])) for o in ("gamma", "tweedie")],
        *[(lgb.LGBMRegressor(objective=o), TARGET) for o in ("regression_l1", "quantile")],
        *[(lgb.LGBMRegressor(objective=o), TARGET) for o in ("fair", "mape")],
        (lgb.LGBMClassifier(boost_from_average=False, subsample=0.5, subsample_freq=1), BINARY),
        (lgb.LGBMClassifier(boosting_type="dart"), THREE),  # its weights are in the leaves
        (lgb.LGBMRegressor(min_child_samples=1000), TARGET),  # trees of a single leaf
    ],
    ids=case_id,
)
def test_models_answer_as_lightgbm(model: Any, target: Any) -> None:
    _small(model).fit(X, target)
    assert_served_exactly(model, ROWS)


def test_a_pipeline_with_a_scaler_and_one_hot_columns() -> None:
    assert_pipeline_with_one_hot_columns_served(_small(lgb.LGBMClassifier()), X, THREE, RNG)


def test_early_stopping_serves_the_best_iteration() -> None:
    model = _small(lgb.LGBMRegressor(n_estimators=80, learning_rate=0.5))
    stop = [lgb.early_stopping(2, verbose=False)]
    model.fit(X[:300], TARGET[:300], eval_X=(X[300:],), eval_y=(TARGET[300:],), callbacks=stop)
    assert 0 < model.best_iteration_ < 80
    assert_served_exactly(model, ROWS)


MULTICLASS = _small(lgb.LGBMClassifier()).fit(X, THREE)
MULTICLASS_SCORER = load(export(MULTICLASS))


def test_both_missing_types_are_exercised() -> None:
    splits = json.dumps(MULTICLASS.booster_.dump_model()["tree_info"])
    assert '"missing_type": "NaN"' in splits
    assert '"missing_type": "None"' in splits
    assert_served_exactly(MULTICLASS, ROWS)


def _thresholds(feature: int) -> list[float]:
    found, stack = [], [t["tree_structure"] for t in MULTICLASS.booster_.dump_model()["tree_info"]]
    while stack:
        node = stack.pop()
        if "split_index" in node:
            stack += [node["left_child"], node["right_child"]]
            if node["split_feature"] == feature:
                found.append(float(node["threshold"]))
    return found


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(*[near([*_thresholds(f), 0.0]) | st.just(np.nan) for f in range(4)]).map(list),
        min_size=1,
        max_size=10,
    )
)
def test_rows_at_threshold_neighbours_walk_like_lightgbm(rows: list[list[float]]) -> None:
    assert_walks_like_the_library(MULTICLASS, MULTICLASS_SCORER, rows)


@pytest.mark.parametrize("size", [1, 3, 9, 57, 250])
def test_a_row_answers_the_same_anywhere_in_any_batch(size: int) -> None:
    assert_same_anywhere_in_any_batch(MULTICLASS_SCORER, ROWS, size, RNG)


def test_serving_imports_no_lightgbm(tmp_path: Path) -> None:
    assert_served_without_the_library(MULTICLASS, tmp_path, ROWS[:50])


def test_covers_are_the_row_counts_in_node_order() -> None:
    covers = booster_covers(MULTICLASS)
    files = export(MULTICLASS)
    assert_inner_covers_add_up(files, covers, rtol=0)
    with np.load(io.BytesIO(files["scorer.npz"])) as arrays:
        roots = arrays["roots"]
    assert (covers[roots] == len(X)).all()  # no bagging: every tree sees every row


def _squared(target: Any, predt: Any) -> tuple[Any, Any]:
    return predt - target, np.ones_like(predt)


def _ranker() -> Any:
    model = lgb.LGBMRanker(n_estimators=2, verbose=-1)
    return model.fit(X, BINARY, group=[10] * 40)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_ranker, "objective 'lambdarank'"),
        (
            lambda: lgb.LGBMRegressor(n_estimators=2, objective=_squared, verbose=-1).fit(
                X, TARGET
            ),
            "objective 'custom'",
        ),
        (
            lambda: lgb.LGBMRegressor(n_estimators=2, linear_tree=True, verbose=-1).fit(X, TARGET),
            "linear tree",
        ),
        (
            lambda: lgb.LGBMRegressor(n_estimators=2, zero_as_missing=True, verbose=-1).fit(
                X, TARGET
            ),
            "zero-as-missing",
        ),
        (
            lambda: lgb.LGBMClassifier(n_estimators=2, sigmoid=2.0, verbose=-1).fit(X, BINARY),
            "sigmoid:2",
        ),
        (
            lambda: lgb.LGBMClassifier(n_estimators=2, objective="multiclassova", verbose=-1).fit(
                X, THREE
            ),
            "multiclassova",
        ),
        (
            lambda: lgb.LGBMRegressor(
                n_estimators=2, boosting_type="rf", subsample=0.5, subsample_freq=1, verbose=-1
            ).fit(X, TARGET),
            "random forest",
        ),
    ],
)
def test_what_cannot_be_served_exactly_is_refused(make: Any, message: str) -> None:
    assert_refused(make, message, "lightgbm")


CATEGORICAL_X = categorical_table(RNG, 500, 8)
CATEGORICAL_Y = ((CATEGORICAL_X[:, 2] % 3 == 0) ^ (CATEGORICAL_X[:, 0] > 0)).astype(int)
CATEGORICAL = lgb.LGBMClassifier(n_estimators=10, num_leaves=6, min_data_per_group=5, verbose=-1)
CATEGORICAL.fit(CATEGORICAL_X, CATEGORICAL_Y + (CATEGORICAL_X[:, 1] > 1), categorical_feature=[2])
CATEGORICAL_SCORER = load(export(CATEGORICAL))


def test_categorical_splits_answer_as_lightgbm() -> None:
    assert '"decision_type": "=="' in json.dumps(CATEGORICAL.booster_.dump_model()["tree_info"])
    rows = unseen_category_rows(RNG)  # unseen categories 8..11, and -1
    assert_served_exactly(CATEGORICAL, rows)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.floats(-3, 3) | st.just(np.nan),
            st.floats(-3, 3),
            # known, unseen, negative (-0.5 is read as category 0), fractional, huge, missing
            st.sampled_from([*range(-2, 12), -0.5, -0.0, 2.5, 7.9, 300.0, 1e10, np.nan]),
        ).map(list),
        min_size=1,
        max_size=10,
    )
)
def test_rows_with_any_category_walk_like_lightgbm(rows: list[list[float]]) -> None:
    assert_walks_like_the_library(CATEGORICAL, CATEGORICAL_SCORER, rows)


def test_an_ordinal_encoder_in_front_of_categorical_splits() -> None:
    table = np.empty((400, 2), dtype=object)
    table[:, 0] = X[:, 1]
    table[:, 1] = RNG.choice(["red", "green", "blue", "grey"], 400)
    encoder = OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1
    )
    front = ColumnTransformer([("c", encoder, [1]), ("n", "passthrough", [0])])
    pipeline = make_pipeline(front, _small(lgb.LGBMClassifier(min_data_per_group=5)))
    target = (table[:, 1] == "red") ^ (X[:, 1] > 0)
    pipeline.fit(table, target, lgbmclassifier__categorical_feature=[0])
    rows = table[:100].copy()
    rows[:10, 1] = "purple"  # unseen
    assert_served_exactly(pipeline, rows, numeric=False)


def test_a_category_above_255_is_refused() -> None:
    table = categories_above_255(RNG)
    model = lgb.LGBMClassifier(n_estimators=3, min_data_per_group=5, verbose=-1)
    model.fit(table, (table[:, 2] % 2 == 0).astype(int), categorical_feature=[2])
    with pytest.raises(NotExportable, match="above 255"):
        export(model)

"""Batch invariance of every scorer kind: a row answers bit for bit the same alone (the
pure-Python path) and anywhere in a batch of any size (the numpy path from
``PURE_PYTHON_ROWS + 1`` rows on), as lists or as an array — on the rows where the two
paths could part: thresholds and their float64 and float32 neighbours, NaN, unseen and
missing categories."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler

from irisserve.schema import PURE_PYTHON_ROWS
from irisserve.scorers.fast import FastScorer
from tests.helpers.scorer_checks import exported, near, per_row

RNG = np.random.default_rng(25)
X = RNG.normal(size=(300, 3))
X_MISSING = np.where(RNG.random(X.shape) < 0.1, np.nan, X)
CATEGORY = np.array(["red", "green", "blue"], dtype=object)[RNG.integers(0, 3, 300)]
MIXED = np.column_stack([X_MISSING.astype(object), CATEGORY])
THREE = np.digitize(X[:, 0] + X[:, 1] * X[:, 2], [-0.5, 0.5])
TARGET = X[:, 0] * 2 + np.sin(X[:, 1])
HIST_X = np.column_stack([X_MISSING[:, :2], RNG.integers(0, 5, 300)])
#: Categories a client may send: known, unseen, and missing.
CATEGORIES = ["red", "green", "blue", "purple", None]

PIPELINE = make_pipeline(
    ColumnTransformer(
        [
            ("n", make_pipeline(SimpleImputer(), StandardScaler()), [0, 1]),
            ("m", make_pipeline(SimpleImputer(strategy="median"), MinMaxScaler()), [2]),
            ("c", OneHotEncoder(handle_unknown="ignore"), [3]),
        ]
    ),
    LogisticRegression(max_iter=500),
).fit(MIXED, THREE)
KINDS: dict[str, tuple[Any, bool]] = {  # the fitted model, whether its rows are all numbers
    "pipeline": (PIPELINE, False),
    "ridge": (Ridge().fit(X, TARGET), True),
    "forest": (RandomForestClassifier(12, max_depth=6, random_state=0).fit(X_MISSING, THREE), True),
    "boosting-classifier": (GradientBoostingClassifier(n_estimators=8).fit(X, THREE), True),
    "boosting-regressor": (GradientBoostingRegressor(n_estimators=8).fit(X, TARGET), True),
    "hist": (
        HistGradientBoostingClassifier(max_iter=8, categorical_features=[2]).fit(HIST_X, THREE),
        True,
    ),
}
SCORERS: dict[str, FastScorer] = {kind: exported(model) for kind, (model, _) in KINDS.items()}


def _thresholds(model: Any, feature: int) -> list[float]:
    """Every threshold the model compares ``feature`` with (none for linear models)."""
    if hasattr(model, "_predictors"):
        nodes = [node for trees in model._predictors for tree in trees for node in tree.nodes]
        return [
            float(n["num_threshold"])
            for n in nodes
            if not n["is_leaf"] and n["feature_idx"] == feature and not n["is_categorical"]
        ]
    if not hasattr(model, "estimators_"):
        return []
    trees = np.ravel(model.estimators_)
    return [
        float(threshold)
        for tree in trees
        for threshold, split in zip(tree.tree_.threshold, tree.tree_.feature, strict=True)
        if split == feature
    ]


def _cell(kind: str, column: int) -> st.SearchStrategy[Any]:
    """A cell where the paths could part: near a threshold, a large value, or missing."""
    model, numeric = KINDS[kind]
    if not numeric and column == 3:
        return st.sampled_from(CATEGORIES)
    if kind == "hist" and column == 2:  # a category: known, unseen, negative, fractional
        return st.sampled_from([0.0, 1.0, 4.0, 5.0, 7.0, -1.0, 2.5, 300.0, None])
    values = near(_thresholds(model, column)) | st.floats(-1e3, 1e3, allow_subnormal=False)
    missing = kind in ("pipeline", "forest", "hist")
    return values | st.none() if missing else values


def _row(kind: str) -> st.SearchStrategy[list[Any]]:
    return st.tuples(*(_cell(kind, c) for c in range(4 if kind == "pipeline" else 3))).map(list)


@pytest.mark.parametrize("kind", sorted(KINDS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_row_answers_the_same_alone_and_anywhere_in_any_batch(
    kind: str, data: st.DataObject
) -> None:
    scorer, numeric = SCORERS[kind], KINDS[kind][1]
    size = data.draw(st.integers(1, 3 * PURE_PYTHON_ROWS), label="size")
    rows = data.draw(st.lists(_row(kind), min_size=size, max_size=size), label="rows")
    position = data.draw(st.integers(0, size - 1), label="position")
    alone = repr(per_row(scorer.score_rows([rows[position]]))[0])  # repr: NaN equals NaN
    assert repr(per_row(scorer.score_rows(rows))[position]) == alone
    if numeric:
        array = np.array(rows, dtype=np.float64)  # None becomes NaN
        assert repr(per_row(scorer.score_rows(array))[position]) == alone

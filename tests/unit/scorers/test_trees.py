"""irisserve.scorers.trees: trees, forests and gradient boosting answer like scikit-learn."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from irisserve.scorers.fast import NotExportable, export
from tests.helpers.scorer_checks import (
    assert_exact_scorer,
    assert_like_sklearn,
    assert_rows_walk_exactly,
    case_id,
    exported,
    near,
    per_row,
)

RNG = np.random.default_rng(5)
X = RNG.normal(size=(300, 4))
TARGET = X[:, 0] * 3 + np.sin(X[:, 1]) + RNG.normal(size=300) * 0.1
BINARY = (X[:, 0] * X[:, 1] > 0).astype(int)
THREE = np.digitize(X[:, 2] + X[:, 3], [-0.5, 0.5])
ROWS = RNG.normal(size=(160, 4)) * 1.5

ESTIMATORS = [
    (DecisionTreeClassifier(max_depth=6, random_state=0), THREE),
    (DecisionTreeRegressor(max_depth=6, random_state=0), TARGET),
    (RandomForestClassifier(n_estimators=12, max_depth=6, random_state=0), THREE),
    (RandomForestClassifier(n_estimators=12, random_state=0), BINARY),
    (RandomForestRegressor(n_estimators=12, max_depth=6, random_state=0), TARGET),
    (ExtraTreesClassifier(n_estimators=12, random_state=0), THREE),
    (ExtraTreesRegressor(n_estimators=12, random_state=0), TARGET),
    (GradientBoostingClassifier(n_estimators=15, random_state=0), BINARY),
    (GradientBoostingClassifier(n_estimators=15, random_state=0), THREE),
    (GradientBoostingRegressor(n_estimators=15, random_state=0), TARGET),
    (GradientBoostingRegressor(n_estimators=15, loss="huber", random_state=0), TARGET),
    (GradientBoostingClassifier(n_estimators=5, init="zero", random_state=0), BINARY),
]


@pytest.mark.parametrize(("estimator", "target"), ESTIMATORS, ids=case_id)
def test_tree_models_answer_like_sklearn(estimator: Any, target: Any) -> None:
    estimator.fit(X, target)
    assert_exact_scorer(estimator, ROWS)


def _thresholds(estimator: Any) -> list[tuple[int, float]]:
    trees = getattr(estimator, "estimators_", [estimator])
    return [
        (int(f), float(t))
        for tree in np.ravel(trees)
        for f, t in zip(tree.tree_.feature, tree.tree_.threshold, strict=True)
        if f >= 0
    ]


@pytest.mark.parametrize(("estimator", "target"), ESTIMATORS[2:4] + ESTIMATORS[7:8], ids=case_id)
def test_values_at_the_float32_edge_of_a_threshold(estimator: Any, target: Any) -> None:
    """scikit-learn rounds inputs to float32 before comparing: values just around each
    threshold (closer than float32 can tell apart) must go the same way."""
    estimator.fit(X, target)
    rows = []
    for feature, threshold in _thresholds(estimator)[:60]:
        for value in (threshold, np.nextafter(threshold, np.inf), threshold + 1e-9):
            row = ROWS[len(rows) % len(ROWS)].copy()
            row[feature] = value
            rows.append(row)
    assert_exact_scorer(estimator, np.array(rows))


def test_forests_route_missing_values_as_trained() -> None:
    rows, train = ROWS.copy(), X.copy()
    train[RNG.random(train.shape) < 0.1] = np.nan
    rows[RNG.random(rows.shape) < 0.2] = np.nan
    for estimator in (
        DecisionTreeClassifier(max_depth=5, random_state=0),
        RandomForestClassifier(n_estimators=8, random_state=0),
        ExtraTreesRegressor(n_estimators=8, random_state=0),
    ):
        target = TARGET if "Regressor" in type(estimator).__name__ else THREE
        assert_exact_scorer(estimator.fit(train, target), rows)


@pytest.mark.parametrize(
    "estimator",
    [
        RandomForestRegressor(n_estimators=2).fit(X, np.column_stack([TARGET, TARGET])),
        GradientBoostingClassifier(n_estimators=2, loss="exponential").fit(X, BINARY),
        GradientBoostingRegressor(n_estimators=2, init=DecisionTreeRegressor()).fit(X, TARGET),
    ],
    ids=case_id,
)
def test_what_cannot_be_exported_says_why(estimator: Any) -> None:
    with pytest.raises(NotExportable, match=type(estimator).__name__):
        export(estimator)


def test_a_batch_too_large_to_walk_at_once_is_walked_in_groups_of_trees() -> None:
    forest = RandomForestClassifier(n_estimators=12, random_state=0).fit(X, THREE)
    rows = RNG.normal(size=(8_000, 4))  # 12 trees x 8,000 rows > 65,536 walks at once
    scorer = exported(forest)
    scores = scorer.score_rows(rows)
    assert_like_sklearn(forest, scores, rows)
    assert per_row(scores)[:300] == per_row(scorer.score_rows(rows[:300]))


def _with_missing(table: Any) -> Any:
    table = table.copy()
    table[RNG.random(table.shape) < 0.1] = np.nan
    return table


#: A forest trained with missing values (its nodes send NaN either way), and gradient
#: boosting (which refuses them); both compare float32.
WALKED = [
    RandomForestClassifier(n_estimators=6, max_depth=8, random_state=0).fit(
        _with_missing(X), THREE
    ),
    GradientBoostingRegressor(n_estimators=8, max_depth=4, random_state=0).fit(X, TARGET),
]
WALKED_SCORERS = [exported(estimator) for estimator in WALKED]


def _rows(estimator: Any, missing: bool) -> st.SearchStrategy[list[list[float]]]:
    thresholds = _thresholds(estimator)
    cells = [
        near([t for f, t in thresholds if f == feature]) | st.just(np.nan)
        if missing
        else near([t for f, t in thresholds if f == feature])
        for feature in range(X.shape[1])
    ]
    return st.lists(st.tuples(*cells).map(list), min_size=1, max_size=12)


@pytest.mark.parametrize("which", range(len(WALKED)), ids=[case_id(e) for e in WALKED])
@given(data=st.data())
def test_rows_at_every_threshold_walk_like_sklearn(which: int, data: st.DataObject) -> None:
    estimator = WALKED[which]
    rows = data.draw(_rows(estimator, missing=which == 0))
    assert_rows_walk_exactly(estimator, WALKED_SCORERS[which], np.array(rows))


@pytest.mark.parametrize("infinite", [False, True], ids=["nan", "nan-and-inf"])
def test_a_walk_sends_missing_values_alike_alone_and_in_a_batch(infinite: bool) -> None:
    # NaN reads -inf or +inf by the node's missing direction; a row or batch that also
    # holds an infinity takes the walk that checks each NaN. Both walks must agree: an
    # infinity goes where float32's largest finite value does.
    forest = WALKED_SCORERS[0].model.forest
    rows = _with_missing(RNG.normal(size=(500, 4)) * 2).astype(np.float32)
    if infinite:
        rows[::7, 1], rows[3::7, 2] = np.inf, -np.inf
    alone = [forest.leaves(row) for row in rows.astype(np.float64).tolist()]
    assert forest.walk_batch(rows).T.tolist() == alone
    largest = np.nan_to_num(rows, nan=np.nan).astype(np.float64).tolist()
    assert [forest.leaves(row) for row in largest] == alone

"""Tree SHAP and linear attributions against shap (the oracle), for every model kind.

Each model is exported as the fast path serves it (``scorers.fast``) with its
``explain.npz`` (``explain.export``); rows are random, with missing values where the model
takes them. irisserve's attributions must equal shap's within 1e-9, and add up with the
baseline to the model's own margin (scikit-learn's) within 1e-9.
"""

from __future__ import annotations

import numpy as np
import pytest
import shap
from sklearn.ensemble import (
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from irisserve.explain.explainer import Explainer, fast_explainer
from irisserve.explain.export import explain_file
from irisserve.scorers import fast

from .oracle import expected, shapley

TOLERANCE = 1e-9
FEATURES = 5


def _data(
    classes: int, missing: bool, seed: int = 0, n: int = 300
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, FEATURES))
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(int)
    if classes == 3:
        y = y + (x[:, 3] > 0.5)
    if classes == 0:
        y = x[:, 0] * 3 + x[:, 1] ** 2 + rng.normal(size=n) * 0.1
    if missing:
        x[rng.random(x.shape) < 0.1] = np.nan
    return x, y


def explained(estimator, x) -> Explainer:
    files = fast.export(estimator)
    names = [str(c) for c in getattr(estimator, "classes_", ["y"])]
    return fast_explainer(fast.load(files), explain_file(estimator, files, x.tolist()), names)


def _class_trees(estimator, k):
    """Class ``k``'s trees of a multiclass gradient boosting, in shap's dict model format
    (shap reads only binary ``GradientBoostingClassifier``s)."""
    trees = []
    for stage in estimator.estimators_[:, k]:
        tree = stage.tree_
        trees.append(
            {
                "children_left": tree.children_left,
                "children_right": tree.children_right,
                "children_default": np.where(
                    tree.missing_go_to_left, tree.children_left, tree.children_right
                ),
                "features": tree.feature,
                "thresholds": tree.threshold,
                "values": tree.value[:, 0, :] * estimator.learning_rate,
                "node_sample_weight": tree.weighted_n_node_samples,
            }
        )
    return {"trees": trees, "base_offset": 0.0, "input_dtype": np.float32}


def _shap(estimator, rows):
    """shap's path-dependent values, ``(rows, features, outputs)``."""
    models = [estimator]
    if type(estimator).__name__ == "GradientBoostingClassifier" and len(estimator.classes_) > 2:
        models = [_class_trees(estimator, k) for k in range(len(estimator.classes_))]
    found = []
    for model in models:
        ex = shap.TreeExplainer(
            model, feature_perturbation="tree_path_dependent", model_output="raw"
        )
        found.append(
            np.asarray(ex.shap_values(rows, check_additivity=False)).reshape(
                len(rows), FEATURES, -1
            )
        )
    return np.concatenate(found, axis=2)


def _margin(estimator, rows):
    name = type(estimator).__name__
    if "Regressor" in name:
        return estimator.predict(rows)[:, None]
    if "GradientBoosting" in name:
        return estimator.decision_function(rows).reshape(len(rows), -1)
    return estimator.predict_proba(rows)


MODELS = {
    "decision tree classifier": (DecisionTreeClassifier(max_depth=6, random_state=0), 3, True),
    "decision tree regressor": (DecisionTreeRegressor(max_depth=6, random_state=0), 0, True),
    "random forest classifier": (RandomForestClassifier(30, max_depth=7, random_state=0), 3, True),
    "random forest regressor": (RandomForestRegressor(20, max_depth=6, random_state=0), 0, False),
    "extra trees classifier": (ExtraTreesClassifier(20, max_depth=6, random_state=0), 2, False),
    "gradient boosting binary": (
        GradientBoostingClassifier(n_estimators=30, random_state=0),
        2,
        False,
    ),
    "gradient boosting multiclass": (
        GradientBoostingClassifier(n_estimators=15, random_state=0),
        3,
        False,
    ),
    "gradient boosting regressor": (
        GradientBoostingRegressor(n_estimators=30, subsample=0.7, random_state=0),
        0,
        False,
    ),
    "hist gradient boosting binary": (
        HistGradientBoostingClassifier(max_iter=30, random_state=0),
        2,
        True,
    ),
    "hist gradient boosting multiclass": (
        HistGradientBoostingClassifier(max_iter=10, random_state=0),
        3,
        True,
    ),
    "hist gradient boosting regressor": (
        HistGradientBoostingRegressor(max_iter=30, random_state=0),
        0,
        True,
    ),
}


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_tree_attributions_equal_shaps_and_add_up_to_the_margin(kind: str) -> None:
    estimator, classes, missing = MODELS[kind]
    x, y = _data(classes, missing)
    estimator.fit(x, y)
    rows = _data(classes, missing, seed=1)[0][:60]
    found = explained(estimator, x).explain(rows)
    ours = found.attributions.transpose(2, 0, 1)  # (rows, features, outputs)
    assert np.abs(ours - _shap(estimator, rows)).max() <= TOLERANCE
    total = np.asarray(found.baseline) + ours.sum(axis=1)
    assert np.abs(total - _margin(estimator, rows)).max() <= TOLERANCE
    if missing:
        assert np.isnan(rows).any()


def test_spaces_and_outputs_follow_the_model() -> None:
    x, y = _data(2, False)
    forest = RandomForestClassifier(5, random_state=0).fit(x, y)
    boosting = GradientBoostingClassifier(n_estimators=5).fit(x, y)
    assert (explained(forest, x).space, explained(forest, x).outputs) == ("probability", ["0", "1"])
    assert (explained(boosting, x).space, explained(boosting, x).outputs) == ("log_odds", ["1"])


def test_a_rows_attributions_are_the_same_alone_or_in_any_batch() -> None:
    x, y = _data(3, True)
    explainer = explained(RandomForestClassifier(40, random_state=0).fit(x, y), x)
    rows = _data(3, True, seed=2, n=700)[0]
    batch = explainer.explain(rows).attributions
    for i in (0, 3, 511, 699):
        alone = explainer.explain(rows[i : i + 1]).attributions[:, :, 0]
        assert alone.tobytes() == batch[:, :, i].tobytes()
    as_lists = explainer.explain(rows[5:9].tolist()).attributions
    assert as_lists.tobytes() == batch[:, :, 5:9].copy().tobytes()


def _hgb_oracle(estimator, row_codes):
    """Brute-force Tree SHAP of a histogram gradient boosting regressor, routed by
    scikit-learn's own node arrays (categorical bitsets, missing values)."""
    known, known_index = estimator._bin_mapper.make_known_categories_bitsets()
    features = row_codes.shape[0]
    total = [0.0] * features
    for (predictor,) in estimator._predictors:
        nodes, bitsets = predictor.nodes, predictor.raw_left_cat_bitsets
        tree = [
            {
                "leaf": bool(n["is_leaf"]),
                "value": n["value"],
                "left": n["left"],
                "right": n["right"],
                "feature": int(n["feature_idx"]),
                "cover": n["count"],
            }
            for n in nodes
        ]

        def goes_left(node, nodes=nodes, bitsets=bitsets):
            n = nodes[node]
            value = row_codes[n["feature_idx"]]
            if np.isnan(value):
                return bool(n["missing_go_to_left"])
            if n["is_categorical"]:
                code = int(value)
                category = known_index[n["feature_idx"]]
                if 0 <= code < 256 and bitsets[n["bitset_idx"]][code // 32] >> (code % 32) & 1:
                    return True
                if 0 <= code < 256 and known[category][code // 32] >> (code % 32) & 1:
                    return False
                return bool(n["missing_go_to_left"])
            return bool(value <= n["num_threshold"])

        phi = shapley(features, lambda s, tree=tree, g=goes_left: expected(tree, g, s))
        total = [a + b for a, b in zip(total, phi, strict=True)]
    return total


def test_categorical_splits_and_unseen_categories_match_the_definition() -> None:
    rng = np.random.default_rng(3)
    x = np.column_stack([rng.normal(size=(400, 2)), rng.integers(0, 6, 400).astype(float)])
    y = np.where(np.isin(x[:, 2], [1, 4]), 2.0, -1.0) + x[:, 0]
    x[rng.random(400) < 0.1, 2] = np.nan
    estimator = HistGradientBoostingRegressor(
        max_iter=8, max_depth=3, categorical_features=[2], random_state=0
    ).fit(x, y)
    explainer = explained(estimator, x)
    order = [2, 0, 1]  # the trees read the categorical column first
    assert explainer.source == order
    rows = np.array([[0.2, -0.3, 1.0], [np.nan, 1.0, 4.0], [0.5, 0.5, 9.0], [0.0, 0.0, np.nan]])
    found = explainer.explain(rows)  # 9: a category never seen in training
    codes = estimator._preprocessor.transform(rows)
    for r in range(len(rows)):
        oracle = _hgb_oracle(estimator, codes[r])
        by_input = [oracle[order.index(i)] for i in range(3)]
        assert np.abs(np.array(by_input) - found.attributions[:, 0, r]).max() <= TOLERANCE
    total = np.asarray(found.baseline) + found.attributions.sum(axis=0).T
    assert np.abs(total[:, 0] - estimator.predict(rows)).max() <= TOLERANCE


def test_a_tree_of_one_leaf_attributes_nothing() -> None:
    x, _ = _data(0, False)
    found = explained(DecisionTreeRegressor().fit(x, np.full(len(x), 2.5)), x).explain(x[:4])
    assert found.baseline == [2.5]
    assert not found.attributions.any()

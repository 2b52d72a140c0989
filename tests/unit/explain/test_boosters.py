"""Tree SHAP of XGBoost and LightGBM models against shap (the oracle) and the margin.

LightGBM's trees are float64: irisserve's attributions equal shap's
``TreeExplainer(model)`` (path-dependent) within 1e-9. XGBoost's leaf values, thresholds
and covers are float32 and its margin a float32 sum; shap answers it with float32 values
(the library's margin too), so those are compared within ``_float32_tolerance``: a few
float32 ulps of the largest margin (measured: 1.1e-6 where the ulp is 9.5e-7). For
both, the baseline plus the attributions equals the float64 sum of the exported leaves
the row reaches within 1e-9 (our margin), and the library's own margin within its
precision.
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
import pytest
import shap
import xgboost as xgb

from irisserve.artifact.folder import open_artifact
from irisserve.explain.explainer import Explainer, explainer_for, fast_explainer
from irisserve.explain.export import explain_file
from irisserve.packaging import write_artifact
from irisserve.scorers import fast

TOLERANCE = 1e-9

RNG = np.random.default_rng(27)
X = RNG.normal(size=(400, 5))
X[RNG.random(400) < 0.1, 0] = np.nan
BINARY = (np.nan_to_num(X[:, 0]) + X[:, 1] * X[:, 2] > 0).astype(int)
THREE = BINARY + (X[:, 3] > 0.4)
TARGET = 2.0 * X[:, 1] + np.nan_to_num(X[:, 0]) ** 2
ROWS = RNG.normal(size=(80, 5)) * 1.5
ROWS[RNG.random(80) < 0.2, 0] = np.nan

COMMON = {"n_estimators": 20, "max_depth": 4, "n_jobs": 1}
LGB = COMMON | {"num_leaves": 12, "min_child_samples": 5, "verbose": -1}
MODELS = {
    "xgboost binary": (xgb.XGBClassifier(**COMMON), BINARY),
    "xgboost multiclass": (xgb.XGBClassifier(**COMMON), THREE),
    "xgboost regressor": (xgb.XGBRegressor(**COMMON), TARGET),
    "lightgbm binary": (lgb.LGBMClassifier(**LGB), BINARY),
    "lightgbm multiclass": (lgb.LGBMClassifier(**LGB), THREE),
    "lightgbm regressor": (lgb.LGBMRegressor(**LGB), TARGET),
}


def _explained(model: Any) -> Explainer:
    files = fast.export(model)
    names = [str(c) for c in getattr(model, "classes_", ["y"])]
    return fast_explainer(fast.load(files), explain_file(model, files, X.tolist()), names)


def _leaf_margin(explainer: Explainer, rows: Any) -> Any:
    """``(rows, outputs)``: init plus the exported leaves each row reaches, in float64."""
    boosting = explainer.scorer.model
    forest = boosting.forest
    read = rows.astype(np.float32).astype(np.float64) if forest.float32 else rows
    leaves = forest.walk_batch(read)
    picked = forest.numpy("values")[leaves]  # (trees, rows)
    outputs = len(boosting.init)
    return np.stack(
        [boosting.init[k] + picked[k::outputs].sum(axis=0) for k in range(outputs)], axis=1
    )


def _float32_tolerance(margin: Any) -> float:
    """Eight float32 ulps of the largest margin: shap's and xgboost's float32 answers."""
    return float(8 * np.spacing(np.float32(np.abs(margin).max())))


def _library_margin(model: Any, rows: Any) -> Any:
    if isinstance(model, xgb.XGBModel):
        margin = model.get_booster().inplace_predict(rows, predict_type="margin")
        return margin.reshape(len(rows), -1)
    return model.predict(rows, raw_score=True).reshape(len(rows), -1)


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_booster_attributions_equal_shaps_and_add_up_to_the_margin(kind: str) -> None:
    model, target = MODELS[kind]
    model.fit(X, target)
    explainer = _explained(model)
    found = explainer.explain(ROWS)
    ours = found.attributions.transpose(2, 0, 1)  # (rows, features, outputs)
    oracle = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
    theirs = np.asarray(oracle.shap_values(ROWS, check_additivity=False))
    theirs = theirs.reshape(len(ROWS), X.shape[1], -1)
    library = _library_margin(model, ROWS)
    within = TOLERANCE if kind.startswith("lightgbm") else _float32_tolerance(library)
    assert np.abs(ours - theirs).max() <= within
    baseline = np.asarray(found.baseline)
    assert np.abs(baseline - np.atleast_1d(oracle.expected_value)).max() <= within
    total = baseline + ours.sum(axis=1)
    assert np.abs(total - _leaf_margin(explainer, ROWS)).max() <= TOLERANCE
    assert np.abs(total - library).max() <= within
    assert found.space == ("log_odds" if hasattr(model, "classes_") else "raw")
    assert len(found.outputs) == (3 if target is THREE else 1)


def test_a_packaged_booster_answers_explain_requests(tmp_path: Any) -> None:
    model = lgb.LGBMClassifier(**LGB).fit(X, THREE)
    write_artifact(model, X, tmp_path, name="lgbm", version="1", y=THREE)
    explained = explainer_for(open_artifact(tmp_path)).explain(ROWS[:3])
    assert explained.space == "log_odds"
    assert explained.outputs == ["0", "1", "2"]
    total = np.asarray(explained.baseline) + explained.attributions.sum(axis=0).T
    assert np.abs(total - _library_margin(model, ROWS[:3])).max() <= TOLERANCE


def test_lightgbm_categorical_columns_are_read_as_lightgbm_reads_them() -> None:
    codes = RNG.integers(0, 6, size=400).astype(float)
    x = np.column_stack([X[:, 1:3], codes])
    target = np.where(np.isin(codes, [0, 4]), 2.0, -1.0) + x[:, 0]
    model = lgb.LGBMRegressor(**LGB, min_data_per_group=5, cat_smooth=1.0)
    model.fit(x, target, categorical_feature=[2])
    assert (model.booster_.dump_model()["tree_info"][0]["tree_structure"]["decision_type"]) == "=="
    rows = np.column_stack([ROWS[:8, 1:3], [1.0, 4.7, -0.5, 9.0, np.nan, 4.0, 1.2, 3.0]])
    found = _explained(model).explain(rows)  # 4.7 is category 4, -0.5 category 0
    total = np.asarray(found.baseline) + found.attributions.sum(axis=0).T
    assert np.abs(total - _library_margin(model, rows)).max() <= TOLERANCE

"""Linear models, and trees behind preprocessing: attributions per input feature.

Linear: ``coef * (value - training mean)`` in the margin, against ``shap.LinearExplainer``
with the training rows (as the model reads them) as its background; a one-hot group,
and any model behind a ``ColumnTransformer``, is summed back onto its input column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shap
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler

from irisserve.explain.explainer import fast_explainer
from irisserve.explain.export import explain_file
from irisserve.packaging._positional import positional
from irisserve.scorers import fast

TOLERANCE = 1e-9
GROUPS = [0, 1, 2, 2, 2]  # input column of each model column: a, b, then c's one-hot


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "a": rng.normal(size=n) * 3 + 1,
            "b": rng.normal(size=n),
            "c": rng.choice(["red", "green", "blue"], size=n),
        }
    )


def _pipeline(model, impute: bool = False):
    numeric = make_pipeline(SimpleImputer(), StandardScaler()) if impute else MinMaxScaler()
    columns = ColumnTransformer(
        [
            ("n", numeric, [0, 1]),
            ("c", OneHotEncoder(handle_unknown="ignore", sparse_output=False), [2]),
        ]
    )
    return make_pipeline(columns, model)


def _explained(estimator, x):
    estimator = positional(estimator)
    files = fast.export(estimator)
    names = [str(c) for c in getattr(estimator, "classes_", ["y"])]
    rows = x.to_numpy(dtype=object).tolist()
    return fast_explainer(fast.load(files), explain_file(estimator, files, rows), names)


def _target(x: pd.DataFrame, classes: int) -> np.ndarray:
    score = x["a"] - 2 * x["b"] + (x["c"] == "red")
    if classes == 0:
        return score.to_numpy()
    return np.digitize(score, np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1]))


@pytest.mark.parametrize(
    ("model", "classes"),
    [(LogisticRegression(), 2), (LogisticRegression(), 3), (Ridge(), 0), (LinearRegression(), 0)],
)
def test_linear_attributions_equal_shaps_summed_per_input_feature(model, classes) -> None:
    x = _frame(300, 0)
    estimator = _pipeline(model).fit(x.to_numpy(dtype=object), _target(x, classes))
    rows = _frame(40, 1)
    rows.loc[3, "c"] = "violet"  # unseen: all of c's one-hot columns are 0
    cells = rows.to_numpy(dtype=object)
    found = _explained(estimator, x).explain(cells.tolist())
    transform, final = estimator[:-1], estimator[-1]
    background = transform.transform(x.to_numpy(dtype=object))
    masker = shap.maskers.Independent(background, max_samples=len(background))
    oracle = shap.LinearExplainer(final, masker)
    values = np.asarray(oracle.shap_values(transform.transform(cells))).reshape(40, 5, -1)
    by_input = np.zeros((40, 3, values.shape[2]))
    for column, source in enumerate(GROUPS):
        by_input[:, source] += values[:, column]
    assert np.abs(found.attributions.transpose(2, 0, 1) - by_input).max() <= TOLERANCE
    assert np.abs(np.array(found.baseline) - np.ravel(oracle.expected_value)).max() <= TOLERANCE
    margin = estimator.predict(cells) if classes == 0 else estimator.decision_function(cells)
    total = np.asarray(found.baseline) + found.attributions.sum(axis=0).T
    assert np.abs(total - np.reshape(margin, (40, -1))).max() <= TOLERANCE
    assert found.space == ("raw" if classes == 0 else "log_odds")


def test_trees_behind_imputation_and_one_hot_are_explained_per_input_feature() -> None:
    x = _frame(300, 0)
    y = _target(x, 0)
    x.loc[::9, "b"] = np.nan
    estimator = _pipeline(RandomForestRegressor(15, max_depth=6, random_state=0), impute=True)
    estimator.fit(x.to_numpy(dtype=object), y)
    rows = _frame(30, 2)
    rows.loc[::4, "b"] = np.nan
    cells = rows.to_numpy(dtype=object)
    found = _explained(estimator, x).explain(cells.tolist())
    oracle = shap.TreeExplainer(estimator[-1], feature_perturbation="tree_path_dependent")
    values = oracle.shap_values(estimator[:-1].transform(cells))
    by_input = np.zeros((30, 3))
    for column, source in enumerate(GROUPS):
        by_input[:, source] += values[:, column]
    assert np.abs(found.attributions[:, 0, :].T - by_input).max() <= TOLERANCE
    total = found.baseline[0] + found.attributions[:, 0, :].sum(axis=0)
    assert np.abs(total - estimator.predict(cells)).max() <= TOLERANCE

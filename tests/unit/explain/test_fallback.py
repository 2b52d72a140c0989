"""Models outside the fast path: shap's exact explainer, or ``MissingExtra`` without shap."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.neighbors import KNeighborsRegressor

from irisserve.artifact.folder import open_artifact
from irisserve.errors import MissingExtra
from irisserve.explain.fallback import shap_explainer
from irisserve.packaging import write_artifact


@pytest.fixture(scope="module")
def neighbours(tmp_path_factory: pytest.TempPathFactory) -> tuple[KNeighborsRegressor, Path]:
    x, y = load_iris(return_X_y=True, as_frame=True)
    estimator = KNeighborsRegressor(7).fit(x, y)
    folder = tmp_path_factory.mktemp("knn")
    write_artifact(estimator, x, folder, name="knn", version="1", y=y)
    return estimator, folder


def test_exact_shapley_values_add_up_against_the_mean_row(neighbours) -> None:
    estimator, folder = neighbours
    model = open_artifact(folder)
    explainer = shap_explainer(model)
    rows = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]
    found = explainer.explain(rows)
    assert (found.space, found.outputs) == ("raw", ["target"])  # the output is y's name
    means = [model.manifest.feature_statistics[f].mean for f in model.feature_names]
    assert found.baseline == pytest.approx(estimator.predict(np.array([means])).tolist(), abs=0)
    total = found.baseline[0] + found.attributions[:, 0, :].sum(axis=0)
    assert np.abs(total - estimator.predict(np.array(rows))).max() <= 1e-9


def test_without_shap_the_error_names_the_extra(neighbours, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "shap", None)  # import shap raises ImportError
    with pytest.raises(MissingExtra, match=r"irisserve\[explain\]"):
        shap_explainer(open_artifact(neighbours[1]))

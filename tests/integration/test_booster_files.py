"""A saved XGBoost or LightGBM booster, packaged by ``python -m irisserve.packaging`` and
served by a real functions-framework process, answers what its library answers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import pandas as pd
import pytest
import xgboost
from sklearn.datasets import make_classification, make_regression

from irisserve.artifact.manifest import read_manifest
from tests.helpers.support import FunctionProcess, package_through_the_cli

pytestmark = pytest.mark.integration

FEATURES = [f"f{i}" for i in range(6)]


def _rows(regression: bool) -> tuple[pd.DataFrame, np.ndarray]:
    if regression:
        x, y = make_regression(n_samples=300, n_features=6, random_state=0)
    else:
        x, y = make_classification(
            n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=0
        )
    return pd.DataFrame(x, columns=FEATURES), y


def _xgboost(folder: Path, regression: bool) -> tuple[Path, Callable[[Any], Any]]:
    x, y = _rows(regression)
    params = {"objective": "reg:squarederror"} if regression else {"objective": "multi:softprob"}
    booster = xgboost.train(
        {**params, "max_depth": 3, **({} if regression else {"num_class": 3})},
        xgboost.DMatrix(x, label=y),
        num_boost_round=20,
    )
    path = folder / "model.json"
    booster.save_model(path)
    return path, booster.inplace_predict


def _lightgbm(folder: Path, regression: bool) -> tuple[Path, Callable[[Any], Any]]:
    x, y = _rows(regression)
    params = {"objective": "regression"} if regression else {"objective": "multiclass"}
    booster = lightgbm.train(
        {**params, "num_leaves": 7, "verbose": -1, **({} if regression else {"num_class": 3})},
        lightgbm.Dataset(x, label=y),
        num_boost_round=20,
    )
    path = folder / "model.txt"
    booster.save_model(path)
    return path, booster.predict


SAVERS = {"xgboost": _xgboost, "lightgbm": _lightgbm}


@pytest.mark.parametrize("regression", [False, True], ids=["classifier", "regressor"])
@pytest.mark.parametrize("library", sorted(SAVERS))
def test_a_booster_file_is_packaged_and_served_as_its_library_answers(
    library: str, regression: bool, tmp_path: Path
) -> None:
    path, library_predict = SAVERS[library](tmp_path, regression)
    x, y = _rows(regression)
    said = package_through_the_cli(path, x.assign(y=y), tmp_path, library)
    assert said.startswith("served by: ")
    manifest = read_manifest(tmp_path / "out")
    assert manifest.feature_names == FEATURES
    assert any(name.startswith(library) for name in manifest.libraries)
    held_out = np.random.default_rng(2).normal(size=(25, 6)) * 2
    expected = np.asarray(library_predict(held_out))
    with FunctionProcess(env={"IRISSERVE_MODEL_DIR": str(tmp_path / "out")}) as served:
        reply = served.post_json("/predict", {"instances": held_out.tolist()})
        assert reply.status == 200, reply.body
        predictions = reply.json()["predictions"]
        metadata = served.request("GET", f"/v2/models/{library}").json()
    assert metadata["platform"] == library
    if regression:
        got = np.array([p["prediction"] for p in predictions])
        assert np.max(np.abs(got - expected)) <= 1e-12 * np.max(np.abs(expected))
        return
    got = np.array([[p["probabilities"][str(c)] for c in range(3)] for p in predictions])
    assert np.max(np.abs(got - expected)) <= 1e-12
    assert [p["prediction"] for p in predictions] == np.argmax(expected, axis=1).tolist()

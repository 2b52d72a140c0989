"""irisserve.packaging.boosterfile: a saved XGBoost or LightGBM booster answers exactly what
the scikit-learn wrapper that saved it answers, and what its library's booster answers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import pytest
import xgboost
from sklearn.datasets import make_classification, make_regression

from irisserve.packaging import PackagingError, boosterfile

ROWS = 200


def _data(task: str) -> tuple[Any, Any]:
    if task == "regression":
        return make_regression(n_samples=ROWS, n_features=5, random_state=0)
    classes = 3 if task == "multiclass" else 2
    return make_classification(
        n_samples=ROWS, n_features=5, n_informative=3, n_classes=classes, random_state=0
    )


def _xgboost(task: str, path: Path) -> tuple[Any, Callable[[Any], Any]]:
    x, y = _data(task)
    wrapper = xgboost.XGBRegressor if task == "regression" else xgboost.XGBClassifier
    fitted = wrapper(n_estimators=8, max_depth=3).fit(x, y)
    fitted.save_model(path.with_suffix(".ubj" if task == "binary" else ".json"))
    return fitted, fitted.get_booster().inplace_predict


def _lightgbm(task: str, path: Path) -> tuple[Any, Callable[[Any], Any]]:
    x, y = _data(task)
    wrapper = lightgbm.LGBMRegressor if task == "regression" else lightgbm.LGBMClassifier
    fitted = wrapper(n_estimators=8, num_leaves=7, verbose=-1).fit(x, y)
    fitted.booster_.save_model(path.with_suffix(".txt"))
    return fitted, fitted.booster_.predict


SAVERS = {"xgboost": _xgboost, "lightgbm": _lightgbm}


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("library", sorted(SAVERS))
def test_a_booster_file_answers_as_its_wrapper_and_its_booster(
    library: str, task: str, tmp_path: Path
) -> None:
    fitted, booster_predict = SAVERS[library](task, tmp_path / "model")
    (path,) = tmp_path.iterdir()
    assert boosterfile.kind(path) == library
    loaded = boosterfile.load(path)
    assert type(loaded) is type(fitted)
    x = np.random.default_rng(1).normal(size=(500, 5)) * 3
    assert loaded.n_features_in_ == 5
    raw = np.asarray(booster_predict(x))
    if task == "regression":
        assert np.array_equal(loaded.predict(x), fitted.predict(x))
        assert np.array_equal(loaded.predict(x), raw)
        return
    assert list(loaded.classes_) == list(range(3 if task == "multiclass" else 2))
    probabilities = loaded.predict_proba(x)
    assert np.array_equal(probabilities, fitted.predict_proba(x))
    assert np.array_equal(loaded.predict(x), fitted.predict(x))
    assert np.array_equal(probabilities[:, -1] if raw.ndim == 1 else probabilities, raw)
    # What the exporter reads: the library's own booster.
    booster = loaded.get_booster() if library == "xgboost" else loaded.booster_
    assert type(booster).__module__.startswith(library)


def test_the_file_s_feature_names_are_the_estimator_s(tmp_path: Path) -> None:
    import pandas as pd

    x, y = _data("binary")
    frame = pd.DataFrame(x, columns=list("abcde"))
    xgboost.XGBClassifier(n_estimators=2).fit(frame, y).save_model(tmp_path / "x.json")
    lgbm = lightgbm.LGBMClassifier(n_estimators=2, verbose=-1).fit(frame, y)
    lgbm.booster_.save_model(tmp_path / "l.txt")
    lightgbm.LGBMClassifier(n_estimators=2, verbose=-1).fit(x, y).booster_.save_model(
        tmp_path / "unnamed.txt"
    )
    assert list(boosterfile.load(tmp_path / "x.json").feature_names_in_) == list("abcde")
    assert list(boosterfile.load(tmp_path / "l.txt").feature_names_in_) == list("abcde")
    assert not hasattr(boosterfile.load(tmp_path / "unnamed.txt"), "feature_names_in_")


def test_other_objectives_and_files_are_refused_with_a_sentence(tmp_path: Path) -> None:
    x, y = _data("binary")
    xgboost.XGBClassifier(n_estimators=2, objective="binary:hinge").fit(x, y).save_model(
        tmp_path / "hinge.json"
    )
    lightgbm.LGBMRegressor(n_estimators=2, objective="poisson", verbose=-1).fit(
        x, np.abs(y)
    ).booster_.save_model(tmp_path / "poisson.txt")
    with pytest.raises(
        PackagingError,
        match=r"hinge.json: an XGBoost model with objective 'binary:hinge', which irisserve",
    ):
        boosterfile.load(tmp_path / "hinge.json")
    with pytest.raises(PackagingError, match=r"objective 'poisson'.*it serves binary, multiclass"):
        boosterfile.load(tmp_path / "poisson.txt")
    (tmp_path / "broken.json").write_text('{"learner": 1}')
    with pytest.raises(PackagingError, match="is not an XGBoost model XGBoost can read"):
        boosterfile.load(tmp_path / "broken.json")
    (tmp_path / "model.joblib").write_bytes(b"\x80\x05junk")
    assert boosterfile.kind(tmp_path / "model.joblib") is None

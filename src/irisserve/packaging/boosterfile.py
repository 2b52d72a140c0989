"""A saved booster file as packaging input: an XGBoost JSON or UBJSON model, a LightGBM text one.

``load`` reads the file with its library and answers that library's own scikit-learn
wrapper around the booster, so ``predict`` and ``predict_proba`` are the wrapper's own:
``XGBClassifier``/``XGBRegressor`` through their ``load_model`` (``get_booster()`` is the
file's ``xgboost.Booster``), ``LGBMClassifier``/``LGBMRegressor`` holding the file's
``lightgbm.Booster`` as ``booster_``, set up as their ``fit`` leaves them. Which wrapper
comes from the objective; a classifier's classes are 0..k-1, as the booster numbers them;
the feature names are the file's, when it has them. Other objectives are refused with a
sentence. A file is recognised by its first bytes, whatever its name: ``tree`` (LightGBM)
or ``{`` (XGBoost JSON or UBJSON).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from irisserve.packaging.errors import PackagingError

__all__ = [
    "LIGHTGBM_CLASSIFIERS",
    "LIGHTGBM_REGRESSORS",
    "XGBOOST_CLASSIFIERS",
    "XGBOOST_REGRESSORS",
    "kind",
    "load",
]

XGBOOST_CLASSIFIERS = ("binary:logistic", "multi:softprob", "multi:softmax")
XGBOOST_REGRESSORS = (
    "reg:squarederror",
    "reg:absoluteerror",
    "reg:pseudohubererror",
    "reg:squaredlogerror",
)
LIGHTGBM_CLASSIFIERS = ("binary", "multiclass")
LIGHTGBM_REGRESSORS = ("regression", "regression_l1", "huber", "fair", "quantile", "mape")


def kind(path: Path) -> str | None:
    """``xgboost`` or ``lightgbm`` when ``path`` is such a saved booster, else None."""
    with path.open("rb") as file:
        start = file.read(5)
    if start == b"tree\n":
        return "lightgbm"
    if start[:1] == b"{":
        return "xgboost"
    return None


def load(path: Path) -> Any:
    """The library's scikit-learn wrapper around the booster saved in ``path``."""
    library = kind(path)
    if library is None:
        raise PackagingError(f"{path} is neither an XGBoost nor a LightGBM model file")
    return _xgboost(path) if library == "xgboost" else _lightgbm(path)


def _refuse(path: Path, library: str, objective: str, served: tuple[str, ...]) -> PackagingError:
    return PackagingError(
        f"{path.name}: {library} model with objective {objective!r}, which irisserve does "
        f"not serve from a booster file: it serves {', '.join(served)}; package the fitted "
        "scikit-learn wrapper instead (a joblib file), or train with one of those objectives"
    )


def _xgboost(path: Path) -> Any:
    import xgboost

    try:
        booster = xgboost.Booster(model_file=str(path))
    except xgboost.core.XGBoostError as exc:
        raise PackagingError(f"{path} is not an XGBoost model XGBoost can read: {exc}") from exc
    objective = json.loads(booster.save_config())["learner"]["objective"]["name"]
    if objective in XGBOOST_CLASSIFIERS:
        model: Any = xgboost.XGBClassifier()
    elif objective in XGBOOST_REGRESSORS:
        model = xgboost.XGBRegressor()
    else:
        raise _refuse(path, "an XGBoost", objective, XGBOOST_CLASSIFIERS + XGBOOST_REGRESSORS)
    model.load_model(bytearray(booster.save_raw("ubj")))
    return model


def _header(text: str, key: str) -> str:
    """The first word of a LightGBM model file's ``key=`` line (``none`` without one)."""
    found = re.search(rf"(?m)^{key}=(\S+)", text)
    return found[1] if found else "none"


def _lightgbm(path: Path) -> Any:
    import lightgbm
    import numpy as np
    from lightgbm.compat import _LGBMLabelEncoder

    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        booster = lightgbm.Booster(model_str=text)
    except lightgbm.basic.LightGBMError as exc:
        raise PackagingError(f"{path} is not a LightGBM model LightGBM can read: {exc}") from exc
    objective = _header(text, "objective")
    if objective in LIGHTGBM_CLASSIFIERS:
        model: Any = lightgbm.LGBMClassifier(objective=objective)
        classes = 2 if objective == "binary" else int(_header(text, "num_class"))
        model._le = _LGBMLabelEncoder().fit(np.arange(classes))
        model._classes = model._le.classes_
        model._n_classes = classes
        model._class_map = {c: c for c in range(classes)}
    elif objective in LIGHTGBM_REGRESSORS:
        model = lightgbm.LGBMRegressor(objective=objective)
    else:
        raise _refuse(path, "a LightGBM", objective, LIGHTGBM_CLASSIFIERS + LIGHTGBM_REGRESSORS)
    # What LGBMModel.fit leaves beside the booster.
    model._Booster = booster
    model._objective = objective
    model._n_features = model._n_features_in = booster.num_feature()
    names = booster.feature_name()
    model._fitted_with_feature_names = names != [f"Column_{i}" for i in range(len(names))]
    model._best_iteration = booster.best_iteration
    model.fitted_ = True
    return model

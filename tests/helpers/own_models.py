"""Small fitted models of every kind irisserve must serve, and how to compare its answers.

Each builder fits on a training split and returns the estimator, the training rows (the
packaging input), held-out rows (what the tests send) and the training target. Few rows,
few trees: the suite stays fast.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.datasets import load_diabetes, load_iris, make_classification
from sklearn.ensemble import (
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from training.examples import passengers_pipeline
from training.passengers import passengers

RELATIVE = 1e-12


@dataclass
class Fitted:
    """A fitted estimator, its training rows and target, and held-out rows."""

    estimator: Any
    train: pd.DataFrame
    test: pd.DataFrame
    y: pd.Series


def _split(x: pd.DataFrame, y: pd.Series, estimator: Any, test_rows: int = 40) -> Fitted:
    x_train, x_test, y_train, _ = train_test_split(x, y, test_size=test_rows, random_state=0)
    x_train, x_test = x_train.reset_index(drop=True), x_test.reset_index(drop=True)
    y_train = y_train.reset_index(drop=True)
    return Fitted(estimator.fit(x_train, y_train), x_train, x_test, y_train)


def _numeric(classes: int, rows: int = 240) -> tuple[pd.DataFrame, pd.Series]:
    x, y = make_classification(
        n_samples=rows, n_features=5, n_informative=3, n_classes=classes, random_state=1
    )
    return pd.DataFrame(x, columns=[f"f{i}" for i in range(5)]), pd.Series(y, name="label")


def _diabetes() -> tuple[pd.DataFrame, pd.Series]:
    data = load_diabetes(as_frame=True)
    return data.data.iloc[:300], data.target.iloc[:300].rename("progression")


def _iris_named() -> tuple[pd.DataFrame, pd.Series]:
    data = load_iris(as_frame=True)
    names = np.asarray(data.target_names)[data.target]
    return data.data, pd.Series(names, name="species")


def _categorical_passengers() -> tuple[pd.DataFrame, pd.Series]:
    x, y = passengers(rows=300)
    return x.assign(embarked=x["embarked"].astype("category"), sex=x["sex"].astype("category")), y


BUILDERS: dict[str, Callable[[], Fitted]] = {
    "logistic_binary": lambda: _split(*_numeric(2), LogisticRegression()),
    "logistic_multiclass": lambda: _split(*_iris_named(), LogisticRegression(max_iter=500)),
    "svc": lambda: _split(*_numeric(3), SVC()),
    "ridge": lambda: _split(*_diabetes(), Ridge(alpha=0.5)),
    "random_forest": lambda: _split(
        *_numeric(3), RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0)
    ),
    "gradient_boosting": lambda: _split(
        *_diabetes(), GradientBoostingRegressor(n_estimators=10, max_depth=2, random_state=0)
    ),
    "hist_gradient_boosting": lambda: _split(
        *_categorical_passengers(), HistGradientBoostingClassifier(max_iter=10, random_state=0)
    ),
    "pipeline": lambda: _split(*passengers(rows=300), passengers_pipeline()),
}


#: A transformer class of the user's own, for ``local_module_model``.
LOCAL_STEP = """
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


class Doubled(TransformerMixin, BaseEstimator):
    def fit(self, x, y=None):
        self.n_features_in_ = x.shape[1]
        return self

    def transform(self, x):
        return np.asarray(x) * 2.0
"""


@contextmanager
def local_module_model(folder: Path, module: str = "irisserve_local_steps") -> Iterator[Fitted]:
    """A pipeline whose first step's class lives in ``module``, written in ``folder``:
    importable inside the ``with`` block only (``folder`` leaves ``sys.path`` after)."""
    (folder / f"{module}.py").write_text(LOCAL_STEP)
    sys.path.insert(0, str(folder))
    try:
        step = importlib.import_module(module).Doubled()
        yield _split(*_numeric(2), Pipeline([("doubled", step), ("model", LogisticRegression())]))
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop(module, None)


def json_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as a client sends them: objects of numbers and strings, null where missing."""
    return [
        {name: None if pd.isna(value) else value for name, value in row.items()}
        for row in frame.astype(object).to_dict(orient="records")
    ]


def expected_objects(estimator: Any, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """What the estimator answers, in the shape of irisserve's prediction objects."""
    predicted = estimator.predict(frame).tolist()
    if not hasattr(estimator, "classes_"):
        return [{"prediction": value} for value in predicted]
    names = [str(c) for c in estimator.classes_]
    objects = [{"prediction": p, "prediction_label": str(p)} for p in predicted]
    if hasattr(estimator, "predict_proba"):
        for obj, row in zip(objects, estimator.predict_proba(frame).tolist(), strict=True):
            obj["probabilities"] = dict(zip(names, row, strict=True))
    else:
        decision = np.asarray(estimator.decision_function(frame)).reshape(len(frame), -1)
        for obj, row in zip(objects, decision.tolist(), strict=True):
            obj["decision_function"] = row
    return objects


def assert_same_answers(expected: list[dict[str, Any]], served: list[dict[str, Any]]) -> None:
    """Labels and values equal; scores within 1e-12 relative."""
    assert len(served) == len(expected)
    for want, got in zip(expected, served, strict=True):
        if "prediction_label" in want:
            assert got["prediction"] == want["prediction"]
            assert got["prediction_label"] == want["prediction_label"]
        else:
            np.testing.assert_allclose(got["prediction"], want["prediction"], rtol=RELATIVE)
        if "probabilities" in want:
            assert list(got["probabilities"]) == list(want["probabilities"])
            np.testing.assert_allclose(
                list(got["probabilities"].values()),
                list(want["probabilities"].values()),
                rtol=RELATIVE,
                atol=0,
            )
        if "decision_function" in want:
            np.testing.assert_allclose(
                got["decision_function"], want["decision_function"], rtol=RELATIVE, atol=0
            )

"""irisserve.scorers.linear: linear models answer like scikit-learn, whatever the batch.

Like scikit-learn means labels equal and scores within 1e-12 of their scale
(``irisserve.packaging.tolerance``: probabilities absolute, scores of the terms summed),
what any summation order guarantees, whatever BLAS kernel the CPU picks; the bundled Iris
model, served by this scorer, is checked through every path a request takes.
"""

from __future__ import annotations

import json
from typing import Any

import flask.testing
import joblib
import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.datasets import load_iris
from sklearn.linear_model import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    Ridge,
    SGDClassifier,
    SGDRegressor,
)
from sklearn.svm import LinearSVC

from irisserve.artifact.model import Model
from irisserve.packaging.check import agreement
from irisserve.packaging.tolerance import TOLERANCE, difference, magnitudes
from irisserve.schema import PURE_PYTHON_ROWS
from irisserve.scorers.fast import JSON_NAME, NotExportable, export
from tests.helpers.scorer_checks import (
    assert_batch_invariant,
    assert_exact_scorer,
    case_id,
    exported,
)
from tests.helpers.support import BUNDLED, run_python

RNG = np.random.default_rng(3)
X = RNG.normal(size=(240, 5))
TARGET = X @ [1.0, -2.0, 3.0, 0.5, 0.0] + 50.0 + RNG.normal(size=240)
BINARY = (X[:, 0] + X[:, 1] > 0).astype(int)
THREE = np.digitize(X[:, 0] - X[:, 2], [-0.5, 0.5])
ROWS = RNG.normal(size=(150, 5)) * 1.5


@pytest.mark.parametrize(
    ("estimator", "target"),
    [
        (LogisticRegression(), BINARY),
        (LogisticRegression(C=10.0), THREE),
        (SGDClassifier(loss="log_loss", random_state=0), BINARY),
        (SGDClassifier(loss="log_loss", random_state=0), THREE),
        (SGDClassifier(random_state=0), THREE),
        (LinearSVC(), BINARY),
        (LinearSVC(), THREE),
        (LinearRegression(), TARGET),
        (Ridge(), TARGET),
        (Lasso(alpha=0.1), TARGET),
        (ElasticNet(alpha=0.1), TARGET),
        (SGDRegressor(random_state=0), TARGET),
    ],
    ids=case_id,
)
def test_linear_models_answer_like_sklearn(estimator: Any, target: Any) -> None:
    estimator.fit(X, target)
    scores = assert_exact_scorer(estimator, ROWS)
    if hasattr(estimator, "classes_") and not hasattr(estimator, "predict_proba"):
        assert scores.decision is not None
        assert len(scores.decision[0]) == (1 if len(estimator.classes_) == 2 else 3)


@pytest.fixture(scope="module")
def multinomial() -> Any:
    return LogisticRegression(C=10.0).fit(X, THREE)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, (12, 5), elements=st.floats(-1e3, 1e3, allow_subnormal=False)))
def test_random_rows_like_sklearn(multinomial: Any, rows: Any) -> None:
    """Scores up to 1e4: a probability of 3e-74 differs from scikit-learn's relatively by
    as much as the score's last bits, on some CPUs beyond 1e-12; absolutely it cannot."""
    scorer = exported(multinomial)
    alone = [scorer.score_rows([row]).probabilities for row in rows.tolist()]
    batch = scorer.score_rows(rows)
    assert batch.probabilities is not None
    assert batch.probabilities.tolist() == [p[0] for p in alone if p is not None]
    result = agreement(multinomial, scorer, rows.tolist(), rows)
    assert result.exact, result.reason


def test_probabilities_of_huge_scores_saturate_without_error() -> None:
    estimator = LogisticRegression().fit(X, BINARY)
    rows = np.full((3, 5), 1e6) * [[1], [-1], [0]]
    assert_exact_scorer(estimator, rows)


@pytest.mark.parametrize(
    "estimator",
    [
        Ridge().fit(X, np.column_stack([TARGET, TARGET])),
        SGDClassifier(loss="modified_huber").fit(X, BINARY),
    ],
)
def test_what_cannot_be_exported_says_why(estimator: Any) -> None:
    with pytest.raises(NotExportable, match=type(estimator).__name__):
        export(estimator)


@pytest.mark.parametrize("target", [BINARY, THREE, TARGET], ids=case_id)
def test_scores_that_overflow_are_the_same_on_every_path(target: Any) -> None:
    """The model layer refuses such rows; the scorer only has to answer them consistently."""
    estimator = (LinearRegression() if target is TARGET else LogisticRegression()).fit(X, target)
    rows = np.vstack([np.full((3, 5), 1e308) * [[1], [-1], [0.5]], ROWS[:10]])
    assert_batch_invariant(exported(estimator), rows.tolist(), rows)


@pytest.fixture(scope="module")
def iris_estimator() -> Any:
    """scikit-learn's answers for the bundled model: ``joblib.load`` of its pickle."""
    return joblib.load(BUNDLED / "model.joblib")


@pytest.fixture(scope="module")
def iris_rows() -> npt.NDArray[np.float64]:
    """Every Iris row, then 500 random rows spanning twice the data's range."""
    iris = np.asarray(load_iris().data, dtype=np.float64)
    low, high = iris.min(axis=0), iris.max(axis=0)
    span = high - low
    random = np.random.default_rng(7).uniform(low - span, high + span, size=(500, 4))
    return np.vstack([iris, random])


def assert_like_the_pickle(
    estimator: Any, rows: npt.NDArray[np.float64], labels: Any, probabilities: Any
) -> None:
    assert np.array_equal(np.asarray(labels), estimator.predict(rows))
    expected = estimator.predict_proba(rows)
    found = difference("probabilities", probabilities, expected, magnitudes(estimator, rows))
    assert found <= TOLERANCE


def test_the_bundled_model_is_served_by_this_scorer(model: Model, iris_estimator: Any) -> None:
    assert model.backend == "fast"
    spec = json.loads((BUNDLED / JSON_NAME).read_bytes())["model"]
    assert spec["kind"] == "linear"
    assert spec["link"] == "softmax"
    assert spec["coef"] == iris_estimator.coef_.tolist()  # exact JSON floats
    assert spec["intercept"] == iris_estimator.intercept_.tolist()


def test_a_few_rows_and_a_batch_answer_like_the_pickle(
    iris_estimator: Any, model: Model, iris_rows: Any
) -> None:
    labels, probabilities = [], []
    for start in range(0, len(iris_rows), PURE_PYTHON_ROWS):
        chunk = model.predict_rows(iris_rows[start : start + PURE_PYTHON_ROWS].tolist())
        labels += chunk.labels
        probabilities += chunk.probabilities
    assert all(type(p) is float for row in probabilities for p in row)
    assert_like_the_pickle(iris_estimator, iris_rows, labels, probabilities)
    batch = model.predict_rows(iris_rows)
    assert_like_the_pickle(iris_estimator, iris_rows, batch.labels, batch.probabilities)


@pytest.mark.parametrize("size", [*range(1, 21), 100, 1000])
def test_a_bundled_rows_answer_does_not_depend_on_its_batch(model: Model, size: int) -> None:
    """Random rows in Iris's range, scaled by 0.001 to 10."""
    rng = np.random.default_rng(11)
    rows = rng.uniform([4.3, 2.0, 1.0, 0.1], [7.9, 4.4, 6.9, 2.5], size=(size, 4))
    rows *= 10.0 ** rng.integers(-3, 2, size=(size, 1))
    alone = [model.predict_rows([row]) for row in rows.tolist()]
    for batch in (rows, rows.tolist()):
        together = model.predict_rows(batch)
        assert [together.row(i) for i in range(size)] == alone


def test_the_function_answers_what_the_pickle_answers(
    iris_estimator: Any, iris_rows: Any, client: flask.testing.FlaskClient
) -> None:
    labels, probabilities = [], []
    sizes = [1, PURE_PYTHON_ROWS, len(iris_rows)]  # one row, a small batch, a numpy batch
    for size in sizes:
        for start in range(0, len(iris_rows), size):
            chunk = iris_rows[start : start + size].tolist()
            body = {"features": chunk[0]} if size == 1 else {"instances": chunk}
            answer = client.post("/predict", json=body)
            assert answer.status_code == 200, answer.data
            payload = answer.get_json()
            objects = [payload] if size == 1 else payload["predictions"]
            labels += [o["prediction"] for o in objects]
            probabilities += [list(o["probabilities"].values()) for o in objects]
    everything = np.vstack([iris_rows] * len(sizes))
    assert_like_the_pickle(iris_estimator, everything, labels, probabilities)


def test_a_few_rows_are_loaded_validated_scored_and_encoded_without_numpy() -> None:
    script = """
import sys
from irisserve.config import Settings
from irisserve.serving import state
from irisserve.jsoncodec import encode
from irisserve.protocols.predictions import predictions_payload
from irisserve.schema import parse_body
model = state.get_model(Settings())
rows = parse_body({"instances": [[5.1, 3.5, 1.4, 0.2]] * 8}, model.schema, 10)
encode(predictions_payload(model, model.predict_rows(rows.data), rows.single))
print(model.backend, "numpy" in sys.modules)
"""
    assert run_python(script).strip().splitlines()[-1] == "fast False"

"""The serving path answers exactly what scikit-learn answers, and stays off numpy for a few rows.

The reference is scikit-learn itself: ``joblib.load`` of the bundled ``model.joblib``.
Labels must be identical and probabilities within a relative 1e-12 on every Iris row
and on random rows, on the pure-Python path (a few rows), the numpy path (large
batches) and through the HTTP function; and a row's answer must be bit-identical
whatever the batch it comes in.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import flask.testing
import joblib
import numpy as np
import numpy.typing as npt
import pytest
from sklearn.datasets import load_iris

from irisserve import jsoncodec
from irisserve.artifact.folder import open_artifact
from irisserve.artifact.model import Model
from irisserve.errors import ArtifactIntegrityError, InvalidInput
from irisserve.protocols.predictions import predictions_payload
from irisserve.schema import PURE_PYTHON_ROWS, parse_body
from irisserve.scorers._multinomial import LinearScorer
from tests.helpers.support import BUNDLED, run_python

RELATIVE = 1e-12


@pytest.fixture(scope="module")
def estimator() -> Any:
    return joblib.load(BUNDLED / "model.joblib")


@pytest.fixture(scope="module")
def model() -> Model:
    return open_artifact(BUNDLED, "linear")


@pytest.fixture(scope="module")
def rows() -> npt.NDArray[np.float64]:
    """Every Iris row, then 500 random rows spanning twice the data's range."""
    iris = np.asarray(load_iris().data, dtype=np.float64)
    low, high = iris.min(axis=0), iris.max(axis=0)
    span = high - low
    random = np.random.default_rng(7).uniform(low - span, high + span, size=(500, 4))
    return np.vstack([iris, random])


def assert_same_as_sklearn(
    estimator: Any, rows: npt.NDArray[np.float64], labels: Any, probabilities: Any
) -> None:
    assert np.array_equal(np.asarray(labels), estimator.predict(rows))
    expected = estimator.predict_proba(rows)
    np.testing.assert_allclose(np.asarray(probabilities), expected, rtol=RELATIVE, atol=0)


def test_pure_python_rows_equal_sklearn(estimator: Any, model: Model, rows: Any) -> None:
    labels, probabilities = [], []
    for start in range(0, len(rows), PURE_PYTHON_ROWS):
        chunk = model.predict_rows(rows[start : start + PURE_PYTHON_ROWS].tolist())
        labels += chunk.labels
        probabilities += chunk.probabilities
    assert all(type(p) is float for row in probabilities for p in row)
    assert_same_as_sklearn(estimator, rows, labels, probabilities)


def test_numpy_batch_equals_sklearn(estimator: Any, model: Model, rows: Any) -> None:
    predictions = model.predict_rows(rows)
    assert_same_as_sklearn(estimator, rows, predictions.labels, predictions.probabilities)


@pytest.fixture(scope="module")
def random_rows(rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """1,000 random rows in the data's range, scaled by 0.001 to 10."""
    rng = np.random.default_rng(11)
    low, high = rows.min(axis=0), rows.max(axis=0)
    return rng.uniform(low, high, size=(1000, 4)) * 10.0 ** rng.integers(-3, 2, size=(1000, 1))


@pytest.mark.parametrize("size", [*range(1, 21), 100, 1000])
def test_a_rows_answer_does_not_depend_on_its_batch(
    estimator: Any, model: Model, random_rows: Any, size: int
) -> None:
    rows = random_rows[:size]
    alone = [model.predict_rows([row]) for row in rows.tolist()]
    expected = [(one.labels[0], one.probabilities[0]) for one in alone]
    for batch in (rows, rows.tolist()):
        together = model.predict_rows(batch)
        assert list(zip(together.labels, together.probabilities, strict=True)) == expected
    arrays = model.scorer.linear.score(rows)  # the export's numpy path, behind the adapter
    assert arrays[0].tolist() == [label for label, _ in expected]
    assert arrays[1].tolist() == [probabilities for _, probabilities in expected]
    assert_same_as_sklearn(estimator, rows, *arrays)


def test_the_function_answers_what_sklearn_answers(
    estimator: Any, rows: Any, client: flask.testing.FlaskClient
) -> None:
    labels, probabilities = [], []
    sizes = [1, PURE_PYTHON_ROWS, len(rows)]  # one row, a small batch, a numpy-sized batch
    for size in sizes:
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size].tolist()
            body = {"features": chunk[0]} if size == 1 else {"instances": chunk}
            answer = client.post("/predict", json=body)
            assert answer.status_code == 200, answer.data
            payload = answer.get_json()
            objects = [payload] if size == 1 else payload["predictions"]
            labels += [o["prediction"] for o in objects]
            probabilities += [list(o["probabilities"].values()) for o in objects]
    everything = np.vstack([rows] * len(sizes))
    assert_same_as_sklearn(estimator, everything, labels, probabilities)


@pytest.mark.parametrize("size", [1, PURE_PYTHON_ROWS, PURE_PYTHON_ROWS + 1, 100])
def test_every_route_gives_the_same_rows_the_same_answer(
    model: Model, rows: Any, size: int
) -> None:
    arrays = model.predict_rows(rows[:size])
    lists = model.predict_rows(rows[:size].tolist())
    assert np.shape(arrays.probabilities) == (size, 3)
    assert arrays.labels == lists.labels
    assert arrays.probabilities == lists.probabilities


@pytest.mark.parametrize("size", [1, 3, 256])
def test_the_encoded_answer_is_the_payload_exactly(model: Model, rows: Any, size: int) -> None:
    named = dataclasses.replace(
        model, manifest=dataclasses.replace(model.manifest, class_names=["a%s", 'b"é', "c\\"])
    )
    batch = np.resize(rows, (size, rows.shape[1]))
    predictions = named.predict_rows(batch)
    warnings = {0: [{"feature": "petal_width", "value": 1e300, "message": "100% out"}]}
    for single, extra in [(size == 1, None), (False, warnings)]:
        expected = predictions_payload(named, predictions, single, extra)
        assert json.loads(jsoncodec.encode(expected)) == expected


@pytest.mark.parametrize("size", [1, PURE_PYTHON_ROWS + 1])
def test_rows_whose_scores_overflow_are_invalid_input(model: Model, size: int) -> None:
    batch = [[5.1, 3.5, 1.4, 0.2]] * (size - 1) + [[1e308, 1e308, 1e308, 1e308]]
    rows = parse_body({"instances": batch}, model.schema, 100)
    with pytest.raises(InvalidInput, match=f"row {size - 1}: .* overflow"):
        model.predict_rows(rows.data)


def test_overflow_is_a_400_and_the_next_request_works(client: flask.testing.FlaskClient) -> None:
    answer = client.post("/predict", json={"features": [1e308, 1e308, 1e308, 1e308]})
    assert answer.status_code == 400
    assert answer.get_json()["code"] == "invalid_input"
    assert client.post("/predict", json={"features": [5.1, 3.5, 1.4, 0.2]}).status_code == 200


def test_small_batches_stay_lists_and_large_ones_become_arrays(model: Model) -> None:
    small = parse_body({"instances": [[1, 2, 3, 4]] * PURE_PYTHON_ROWS}, model.schema, 99)
    large = parse_body({"instances": [[1, 2, 3, 4]] * (PURE_PYTHON_ROWS + 1)}, model.schema, 99)
    assert small.data == [[1.0, 2.0, 3.0, 4.0]] * PURE_PYTHON_ROWS
    assert isinstance(large.data, np.ndarray)
    assert small.values.shape == (PURE_PYTHON_ROWS, 4)
    assert large.values.dtype == np.float64


def test_the_export_round_trips_exactly(model: Model, estimator: Any) -> None:
    scorer = LinearScorer.from_estimator(estimator)
    assert LinearScorer.from_json(scorer.to_json().encode()) == scorer
    assert model.scorer.linear == scorer  # behind the Scorer contract's adapter


@pytest.mark.parametrize(
    "change",
    [
        {"coef": [[1.0, 2.0], [3.0]]},
        {"coef": [[1.0, True]] * 3},
        {"coef": [[1.0, "2"]] * 3},
        {"intercept": [0.0, 1.0]},
        {"classes": [0, 1, 2.5]},
        {"format": "other/1"},
    ],
)
def test_a_malformed_export_is_refused(change: dict[str, Any]) -> None:
    raw = {"format": "irisserve.multinomial-linear/1", "coef": [[1.0, 2.0]] * 3}
    raw |= {"intercept": [0.0, 0.0, 0.0], "classes": [0, 1, 2], **change}
    with pytest.raises(ArtifactIntegrityError, match="linear.json"):
        LinearScorer.from_json(json.dumps(raw).encode())


def test_a_few_rows_are_loaded_validated_scored_and_encoded_without_numpy() -> None:
    script = """
import sys
from irisserve.config import Settings
from irisserve.serving import state
from irisserve import jsoncodec
from irisserve.protocols.predictions import predictions_payload
from irisserve.schema import parse_body
model = state.get_model(Settings())
rows = parse_body({"instances": [[5.1, 3.5, 1.4, 0.2]] * 8}, model.schema, 10)
jsoncodec.encode(predictions_payload(model, model.predict_rows(rows.data), rows.single))
print("numpy" in sys.modules)
"""
    assert run_python(script).strip().splitlines()[-1] == "False"

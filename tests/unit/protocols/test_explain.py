"""The explain routes in process (functions-framework's app, the bundled model).

The bundled multinomial logistic regression: attributions are ``coef * (x - mean)`` in its
softmax scores, and add up to its decision function; the answers' shapes and refusals.
"""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pytest
from flask.testing import FlaskClient

from tests.helpers.old_artifact import old_artifact
from tests.helpers.support import BUNDLED, IRIS_FEATURES, SETOSA, VIRGINICA

ROWS = [SETOSA, VIRGINICA]


def test_native_attributions_add_up_to_the_decision_function(client: FlaskClient) -> None:
    answer = client.post("/explain", json={"instances": ROWS}).get_json()
    estimator = joblib.load(BUNDLED / "model.joblib")
    margins = estimator.decision_function(np.array(ROWS))
    assert answer["model_version"] == "1.0.0"
    for entry, margin in zip(answer["explanations"], margins, strict=True):
        assert (entry["space"], entry["outputs"]) == (
            "log_odds",
            ["setosa", "versicolor", "virginica"],
        )
        assert list(entry["attributions"]) == IRIS_FEATURES
        total = np.array(entry["baseline"]) + np.sum(list(entry["attributions"].values()), axis=0)
        assert np.abs(total - margin).max() <= 1e-9


def test_kserve_and_vertex_shapes(client: FlaskClient) -> None:
    native = client.post("/explain", json={"instances": ROWS}).get_json()["explanations"]
    kserve = client.post("/v1/models/iris:explain", json={"instances": ROWS}).get_json()
    assert kserve["explanations"] == native
    assert [p["prediction_label"] for p in kserve["predictions"]] == ["setosa", "virginica"]
    body = {"instances": ROWS, "parameters": {"format": "vertex"}}
    vertex = client.post("/v1/models/iris:explain", json=body).get_json()["explanations"]
    first = vertex[0]["attributions"][2]
    assert first["outputIndex"] == [2]
    assert first["outputDisplayName"] == "virginica"
    assert first["featureAttributions"] == {f: v[2] for f, v in native[0]["attributions"].items()}


@pytest.mark.parametrize(
    ("parameters", "message"),
    [({"format": "tf"}, "parameters.format"), ([1], '"parameters" must be an object')],
)
def test_a_bad_format_is_a_400(client: FlaskClient, parameters: object, message: str) -> None:
    reply = client.post(
        "/v1/models/iris:explain", json={"instances": ROWS, "parameters": parameters}
    )
    assert reply.status_code == 400
    assert message in reply.get_json()["error"]


def test_an_artifact_without_explain_npz_is_a_409(
    client: FlaskClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IRISSERVE_MODEL_DIR", str(old_artifact(tmp_path / "old")))
    reply = client.post("/explain", json={"features": SETOSA})
    assert reply.status_code == 409
    assert reply.get_json()["code"] == "repackage_to_explain"

"""irisserve.protocols.v2.routes: the V2 and V1 routes through functions-framework's test client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient
from tritonclient.http import InferResult

from irisserve.artifact.model import Model
from irisserve.scorers.contract import as_list
from irisserve.serving import state
from tests.helpers.support import IRIS_ROWS, SETOSA, assert_error, v2_binary_request, v2_tensor

ROWS = np.array(IRIS_ROWS)
INFER = "/v2/models/iris/infer"


# --- the routes, through functions-framework's test client ---------------------------------


def test_live_ready_and_metadata(client: FlaskClient) -> None:
    assert client.get("/v2/health/live").get_json() == {"live": True}
    ready = client.get("/v2/health/ready")
    assert ready.status_code == 200
    assert ready.mimetype == "application/json"
    assert ready.get_json() == {"ready": True}
    assert client.get("/v2").get_json() == {
        "name": "irisserve",
        "version": "1.0.0",
        "extensions": ["binary_tensor_data"],
    }
    for path in ("/v2/models/iris", "/v2/models/iris/versions/1.0.0"):
        assert client.get(path).get_json()["inputs"][0]["name"] == "input-0"
    for path in (
        "/v2/models/iris/ready",
        "/v2/models/iris/versions/1.0.0/ready",
        "/v1/models/iris",
    ):
        assert client.get(path).get_json() == {"name": "iris", "ready": True}


def test_not_ready_is_503_with_an_error_body(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("IRISSERVE_MODEL_DIR", str(tmp_path / "absent"))
    assert client.get("/v2/health/live").status_code == 200
    for path in ("/v2/health/ready", "/v2/models/iris/ready"):
        response = client.get(path)
        assert_error(response, 503, "artifact_missing")
        assert response.headers["Retry-After"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v2/models/nope"),
        ("GET", "/v2/models/nope/ready"),
        ("GET", "/v2/models/iris/versions/9.9.9"),
        ("GET", "/v2/models/iris/versions/9.9.9/ready"),
        ("POST", "/v2/models/nope/infer"),
        ("POST", "/v2/models/iris/versions/9.9.9/infer"),
        ("GET", "/v1/models/nope"),
        ("POST", "/v1/models/nope:predict"),
    ],
)
def test_unknown_model_or_version_is_404(client: FlaskClient, method: str, path: str) -> None:
    body = json.dumps({"inputs": [v2_tensor()], "instances": [SETOSA]})
    response = client.open(path, method=method, data=body, content_type="application/json")
    message = assert_error(response, 404, "not_found")["error"]
    assert "nope" in message or "9.9.9" in message


def test_infer_json_without_content_type(client: FlaskClient, model: Model) -> None:
    response = client.post(
        "/v2/models/iris/versions/1.0.0/infer",
        data=json.dumps({"id": "a", "inputs": [v2_tensor()]}),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert "Inference-Header-Content-Length" not in response.headers
    reply = response.get_json()
    assert reply["id"] == "a"
    labels = model.predict_rows(ROWS).labels
    assert labels is not None
    assert reply["outputs"][0]["data"] == as_list(labels)


def test_infer_binary(client: FlaskClient, model: Model) -> None:
    body, header_length = v2_binary_request(
        ROWS, "FP32", parameters={"binary_data_output": True}, id="b"
    )
    response = client.post(
        INFER, data=body, headers={"Inference-Header-Content-Length": header_length}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/octet-stream"
    length = int(response.headers["Inference-Header-Content-Length"])
    result = InferResult.from_response_body(response.get_data(), header_length=length)
    assert result.get_response()["id"] == "b"
    expected = model.predict_rows(ROWS.astype(np.float32).astype(np.float64))
    np.testing.assert_array_equal(result.as_numpy("predict_proba"), expected.probabilities)


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (b"", {}, 400, "malformed_json"),
        (b"{oops", {}, 400, "malformed_json"),
        (b'{"inputs": [1]}', {"Content-Type": "application/json"}, 400, "invalid_input"),
        (b"{}" + bytes(8), {"Inference-Header-Content-Length": "2"}, 400, "invalid_input"),
        (b"{}", {"Inference-Header-Content-Length": "99"}, 400, "invalid_input"),
        (b"{}", {"Inference-Header-Content-Length": "x"}, 400, "invalid_input"),
        (b"{}", {"Content-Encoding": "gzip"}, 415, "unsupported_media_type"),
    ],
)
def test_bad_infer_requests_are_4xx_json_and_the_next_one_works(
    client: FlaskClient, body: bytes, headers: dict[str, str], status: int, code: str
) -> None:
    assert_error(client.post(INFER, data=body, headers=headers), status, code)
    assert client.post(INFER, data=json.dumps({"inputs": [v2_tensor()]})).status_code == 200


def test_truncated_binary_over_http(client: FlaskClient) -> None:
    body, header_length = v2_binary_request(ROWS)
    response = client.post(
        INFER, data=body[:-10], headers={"Inference-Header-Content-Length": header_length}
    )
    assert "truncated" in assert_error(response, 400, "invalid_input")["error"]


def test_infer_limits(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IRISSERVE_MAX_BATCH_ROWS", "2")
    body = json.dumps({"inputs": [v2_tensor()]})
    assert_error(client.post(INFER, data=body), 413, "batch_too_large")
    monkeypatch.setenv("IRISSERVE_MAX_BODY_BYTES", "100")
    state.reset()  # settings are read once per process
    assert_error(client.post(INFER, data=body), 413, "payload_too_large")


def test_infer_is_post_only(client: FlaskClient) -> None:
    response = client.get(INFER)
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "POST"


# --- V1 -------------------------------------------------------------------------------------


def test_v1_predict_matches_the_native_batch(client: FlaskClient) -> None:
    instances = ROWS.tolist()
    native = client.post("/predict", json={"instances": instances}).get_json()
    v1 = client.post("/v1/models/iris:predict", json={"instances": instances, "parameters": {}})
    assert v1.status_code == 200
    assert v1.get_json() == {"predictions": native["predictions"]}
    keyed = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
    one = client.post("/v1/models/iris:predict", json={"instances": [keyed]}).get_json()
    native_one = client.post("/predict", json={"instances": [SETOSA]}).get_json()
    assert one["predictions"] == native_one["predictions"]


def test_v1_flags_drift_like_the_native_batch(client: FlaskClient) -> None:
    instances = [SETOSA, [5.1, 3.5, 100.0, 0.2]]
    native = client.post("/predict", json={"instances": instances}).get_json()
    v1 = client.post("/v1/models/iris:predict", json={"instances": instances}).get_json()
    assert v1 == {"predictions": native["predictions"]}
    assert "warnings" not in v1["predictions"][0]
    assert [w["feature"] for w in v1["predictions"][1]["warnings"]] == ["petal_length"]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"features": SETOSA}, '"instances"'),
        ([SETOSA], '"instances"'),
        ({"instances": [SETOSA], "signature": "x"}, "unknown key 'signature'"),
        ({"instances": [[1, 2, 3]]}, "instances[0]: expected 4 features"),
        ({"instances": [[1, 2, "x", 4]]}, "instances[0][2]"),
        ({"instances": []}, "empty"),
    ],
)
def test_v1_bad_bodies_are_400(client: FlaskClient, payload: Any, message: str) -> None:
    response = client.post("/v1/models/iris:predict", json=payload)
    assert message in assert_error(response, 400, "invalid_input")["error"]


def test_v1_requires_json(client: FlaskClient) -> None:
    response = client.post("/v1/models/iris:predict", data=json.dumps({"instances": [SETOSA]}))
    assert_error(response, 415, "unsupported_media_type")

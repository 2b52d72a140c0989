"""irisserve.serving.wsgi through functions-framework's test client: every endpoint, every
status."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from irisserve.protocols.native import ROUTES
from irisserve.serving import state
from irisserve.serving.wsgi import DEFERRED_ROUTES
from tests.helpers.support import (
    BREAKAGES,
    SETOSA,
    VIRGINICA,
    assert_error,
    break_artifact,
    copy_bundled,
)


def post(client: FlaskClient, path: str, payload: Any, **kwargs: Any) -> Any:
    return client.post(path, data=json.dumps(payload), content_type="application/json", **kwargs)


def test_health_does_not_load_the_model(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "healthy",
        "service": "irisserve",
        "model_loaded": False,
        "model_version": None,
    }
    assert state.loaded_model() is None
    post(client, "/predict", {"features": SETOSA})
    assert client.get("/").get_json()["model_loaded"] is True
    assert client.get("/").get_json()["model_version"] == "1.0.0"


def test_model_info(client: FlaskClient) -> None:
    body = client.get("/model-info").get_json()
    assert body["model_type"] == "LogisticRegression"
    assert body["model_version"] == "1.0.0"
    assert body["input_features"] == 4
    assert body["output_classes"] == 3
    assert body["class_names"] == ["setosa", "versicolor", "virginica"]
    assert body["feature_names"][0] == "sepal_length"
    assert set(body["artifact_sha256"]) == {"model.joblib", "scorer.json", "explain.npz"}
    assert body["libraries"]["scikit-learn"]
    assert 0.9 <= body["metrics"]["accuracy"] <= 1.0


@pytest.mark.parametrize("path", ["/predict", "/"])
def test_single_prediction(client: FlaskClient, path: str) -> None:
    response = post(client, path, {"features": SETOSA})
    assert response.status_code == 200
    body = response.get_json()
    assert body["prediction"] == 0
    assert body["prediction_label"] == "setosa"
    assert body["model_version"] == "1.0.0"
    assert body["confidence"] == max(body["probabilities"].values())
    assert body["confidence"] > 0.9
    assert sum(body["probabilities"].values()) == pytest.approx(1.0)


def test_batch_prediction_keeps_the_order(client: FlaskClient) -> None:
    named = dict(
        zip(["sepal_length", "sepal_width", "petal_length", "petal_width"], SETOSA, strict=True)
    )
    response = post(client, "/predict", {"instances": [VIRGINICA, named, SETOSA]})
    body = response.get_json()
    assert response.status_code == 200
    assert body["model_version"] == "1.0.0"
    labels = [p["prediction_label"] for p in body["predictions"]]
    assert labels == ["virginica", "setosa", "setosa"]
    single = post(client, "/predict", {"features": VIRGINICA}).get_json()
    assert body["predictions"][0]["prediction"] == single["prediction"]
    assert body["predictions"][0]["confidence"] == pytest.approx(single["confidence"], abs=1e-12)


def test_content_type_with_charset_is_json(client: FlaskClient) -> None:
    response = client.post(
        "/predict",
        data=json.dumps({"features": SETOSA}),
        content_type="application/json; charset=utf-8",
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (b'{"features": [1, 2', "malformed_json", "not valid JSON"),
        (b'{"features": [NaN, 1, 2, 3]}', "malformed_json", "NaN"),
        (b"", "malformed_json", "empty"),
        (b'{"features": [1, 2, 3]}', "invalid_input", "expected 4 features, got 3"),
        (b'{"instances": [[1, 2, 3, 4], [1, 2, "x", 4]]}', "invalid_input", "instances[1][2]"),
        (b'{"features": [1e400, 1, 2, 3]}', "invalid_input", "features[0]"),
        (b"42", "invalid_input", "must be a JSON object"),
    ],
)
def test_bad_input_is_400_and_the_next_request_is_served(
    client: FlaskClient, body: bytes, code: str, message: str
) -> None:
    response = client.post("/predict", data=body, content_type="application/json")
    assert message in assert_error(response, 400, code)["error"]
    assert post(client, "/predict", {"features": SETOSA}).status_code == 200


def test_unknown_path_is_404(client: FlaskClient) -> None:
    assert_error(client.get("/nope"), 404, "not_found")
    assert_error(post(client, "/predict/extra", {"features": SETOSA}), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/predict", "POST"),
        ("DELETE", "/", "GET, HEAD, POST"),
        ("POST", "/model-info", "GET, HEAD"),
        ("GET", "/v2/models/iris/infer", "POST"),
        ("POST", "/openapi.json", "GET, HEAD"),
    ],
)
def test_wrong_method_is_405_with_allow(
    client: FlaskClient, method: str, path: str, allow: str
) -> None:
    response = client.open(path, method=method)
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == allow


@pytest.mark.parametrize("module", sorted(set(DEFERRED_ROUTES.values())))
def test_every_deferred_route_is_under_its_prefix(module: str) -> None:
    prefixes = tuple(prefix for prefix, name in DEFERRED_ROUTES.items() if name == module)
    for route in importlib.import_module(module).ROUTES:
        assert route.path.startswith(prefixes), route.path
    assert [route.path for route in ROUTES if route.path.startswith(prefixes)] == []


def test_not_json_is_415(client: FlaskClient) -> None:
    assert_error(client.post("/predict", data="features=1"), 415, "unsupported_media_type")
    response = client.post(
        "/predict", data=json.dumps({"features": SETOSA}), content_type="text/plain"
    )
    assert_error(response, 415, "unsupported_media_type")


def test_body_over_the_limit_is_413_before_parsing(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IRISSERVE_MAX_BODY_BYTES", "100")
    body = assert_error(
        client.post("/predict", data=b"{" * 101, content_type="application/json"),
        413,
        "payload_too_large",
    )
    assert "101 bytes, over the limit of 100" in body["error"]
    assert post(client, "/predict", {"features": SETOSA}).status_code == 200


def test_batch_over_the_limit_is_413(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IRISSERVE_MAX_BATCH_ROWS", "2")
    assert_error(post(client, "/predict", {"instances": [SETOSA] * 3}), 413, "batch_too_large")
    assert post(client, "/predict", {"instances": [SETOSA] * 2}).status_code == 200


@pytest.mark.parametrize("how", sorted(BREAKAGES))
def test_broken_artifact_is_503_and_serving_resumes_once_fixed(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, how: str
) -> None:
    folder = copy_bundled(tmp_path / "model")
    monkeypatch.setenv("IRISSERVE_MODEL_DIR", str(folder))
    monkeypatch.setenv("IRISSERVE_RETRY_AFTER_SECONDS", "7")
    break_artifact(folder, how)
    code, message = BREAKAGES[how]
    response = post(client, "/predict", {"features": SETOSA})
    assert message in assert_error(response, 503, code)["error"]
    assert response.headers["Retry-After"] == "7"
    assert client.get("/").status_code == 200

    if folder.exists():
        for child in folder.iterdir():
            child.unlink()
        folder.rmdir()
    copy_bundled(folder)
    assert post(client, "/predict", {"features": SETOSA}).status_code == 200


def test_misconfiguration_is_a_500_that_names_the_variable(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IRISSERVE_MAX_BATCH_ROWS", "lots")
    body = assert_error(post(client, "/predict", {"features": SETOSA}), 500, "misconfigured")
    assert "IRISSERVE_MAX_BATCH_ROWS" in body["error"]
    for path in ("/model-info", "/v2/health/ready", "/v2/models/iris"):
        assert_error(client.get(path), 500, "misconfigured")


def test_liveness_answers_even_when_the_configuration_is_bad(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IRISSERVE_MAX_BATCH_ROWS", "lots")
    health = client.get("/")
    assert health.status_code == 200
    assert health.get_json()["model_loaded"] is False
    live = client.get("/v2/health/live")
    assert (live.status_code, live.get_json()) == (200, {"live": True})
    assert client.get("/v2").status_code == 200
    monkeypatch.delenv("IRISSERVE_MAX_BATCH_ROWS")
    assert post(client, "/predict", {"features": SETOSA}).status_code == 200


def test_a_bug_is_a_500_without_a_traceback(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*_: object) -> None:
        raise ZeroDivisionError("secret detail")

    monkeypatch.setattr("irisserve.protocols.native.parse_body", broken)
    body = assert_error(post(client, "/predict", {"features": SETOSA}), 500, "internal")
    assert "secret detail" not in body["error"]
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    assert "ZeroDivisionError: secret detail" in logged[-1]["irisserve"]["traceback"]

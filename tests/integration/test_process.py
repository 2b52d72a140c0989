"""The real `functions-framework --target predict` process, driven over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.support import (
    BREAKAGES,
    SETOSA,
    VIRGINICA,
    FunctionProcess,
    break_artifact,
    concurrent_cold_predictions,
    copy_bundled,
    model_loaded_events,
)
from training.train import train

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server() -> Iterator[FunctionProcess]:
    with FunctionProcess() as process:
        yield process


def test_seed_endpoints_and_batch(server: FunctionProcess) -> None:
    health = server.request("GET", "/")
    assert health.status == 200
    assert health.json()["service"] == "irisserve"

    single = server.post_json("/predict", {"features": SETOSA})
    assert single.status == 200
    assert single.headers["Content-Type"] == "application/json"
    assert single.json()["prediction_label"] == "setosa"

    batch = server.post_json("/", {"instances": [SETOSA, VIRGINICA]})
    assert [p["prediction"] for p in batch.json()["predictions"]] == [0, 2]

    info = server.request("GET", "/model-info").json()
    assert info["model_version"] == "1.0.0"
    assert server.request("GET", "/").json()["model_loaded"] is True


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status"),
    [
        ("GET", "/missing", None, {}, 404),
        ("PUT", "/predict", b"{}", {"Content-Type": "application/json"}, 405),
        ("POST", "/predict", b"features=1", {"Content-Type": "text/plain"}, 415),
        ("POST", "/predict", b"{oops", {"Content-Type": "application/json"}, 400),
    ],
)
def test_errors_over_the_wire(
    server: FunctionProcess,
    method: str,
    path: str,
    body: bytes | None,
    headers: dict[str, str],
    status: int,
) -> None:
    reply = server.request(method, path, body, headers)
    assert reply.status == status
    assert set(reply.json()) == {"error", "code"}
    assert server.post_json("/predict", {"features": SETOSA}).status == 200


def test_every_request_logs_one_json_line(server: FunctionProcess) -> None:
    before = len(server.log_lines())
    server.request("GET", "/", headers={"traceparent": f"00-{'a' * 32}-{'b' * 16}-01"})
    server.post_json("/predict", {"features": [1, 2, 3]})
    lines = server.log_lines()[before:]
    assert [line["httpRequest"]["status"] for line in lines] == [200, 400]
    assert lines[0]["logging.googleapis.com/trace"] == "a" * 32
    assert lines[1]["severity"] == "WARNING"
    assert lines[1]["irisserve"]["error_code"] == "invalid_input"


def test_sixteen_concurrent_cold_requests_load_once() -> None:
    with FunctionProcess() as process:
        assert concurrent_cold_predictions(process) == [200] * 16
        assert len(model_loaded_events(process)) == 1


@pytest.mark.parametrize("how", sorted(BREAKAGES))
def test_a_broken_artifact_is_503_until_it_is_fixed(tmp_path: Path, how: str) -> None:
    folder = copy_bundled(tmp_path / "model")
    break_artifact(folder, how)
    with FunctionProcess(env={"IRISSERVE_MODEL_DIR": str(folder)}) as process:
        for _ in range(2):
            reply = process.post_json("/predict", {"features": SETOSA})
            assert reply.status == 503
            assert reply.json()["code"] == BREAKAGES[how][0]
            assert BREAKAGES[how][1] in reply.json()["error"]
            assert int(reply.headers["Retry-After"]) > 0
        shutil.rmtree(folder, ignore_errors=True)
        copy_bundled(folder)
        assert process.post_json("/predict", {"features": SETOSA}).status == 200


def test_eager_mode_loads_before_the_first_request() -> None:
    with FunctionProcess(env={"IRISSERVE_EAGER_LOAD": "1"}) as process:
        assert process.request("GET", "/").json()["model_loaded"] is True
        assert len(model_loaded_events(process)) == 1


def test_model_dir_serves_another_artifact(tmp_path: Path) -> None:
    train(tmp_path / "v2", model_version="2.0.0")
    with FunctionProcess(env={"IRISSERVE_MODEL_DIR": str(tmp_path / "v2")}) as process:
        assert (
            process.post_json("/predict", {"features": SETOSA}).json()["model_version"] == "2.0.0"
        )
        assert json.loads(process.request("GET", "/model-info").body)["model_version"] == "2.0.0"

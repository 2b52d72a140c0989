"""irisserve.serving.logs and the request log line: Cloud Logging fields, trace correlation,
cold and load flags, severities, and logging that never fails the caller."""

from __future__ import annotations

import io
import json
import re
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from irisserve.artifact.manifest import Task
from irisserve.config import Settings
from irisserve.serving import logs, state, wsgi
from tests.helpers.support import SETOSA, VIRGINICA

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def test_emit_writes_one_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    logs.emit("INFO", "hello", irisserve={"rows": 3})
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert json.loads(out) == {"severity": "INFO", "message": "hello", "irisserve": {"rows": 3}}


def test_a_closed_stdout_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr(sys, "stdout", closed)
    logs.emit("INFO", "nobody hears this")


@pytest.mark.parametrize(
    ("traceparent", "cloud", "expected"),
    [
        (f"00-{TRACE}-00f067aa0ba902b7-01", None, (TRACE, "00f067aa0ba902b7", True)),
        (f"00-{TRACE}-00f067aa0ba902b7-00", None, (TRACE, "00f067aa0ba902b7", False)),
        (None, f"{TRACE.upper()}/1;o=1", (TRACE, "0000000000000001", True)),
        (None, f"{TRACE}", (TRACE, None, False)),
        (f"00-{TRACE}-00f067aa0ba902b7-01", f"{'1' * 32}/2;o=1", (TRACE, "00f067aa0ba902b7", True)),
    ],
)
def test_trace_from_either_header(
    traceparent: str | None, cloud: str | None, expected: tuple[str, str | None, bool]
) -> None:
    fields = logs.trace_fields(traceparent, cloud)
    trace_id, span_id, sampled = expected
    assert fields["logging.googleapis.com/trace"] == trace_id
    assert fields.get("logging.googleapis.com/spanId") == span_id
    assert fields["logging.googleapis.com/trace_sampled"] is sampled


def test_trace_names_the_project_when_known() -> None:
    fields = logs.trace_fields(None, TRACE, "my-project")
    assert fields["logging.googleapis.com/trace"] == f"projects/my-project/traces/{TRACE}"


@pytest.mark.parametrize("bad_setting", [{}, {"IRISSERVE_MAX_BATCH_ROWS": "0"}])
def test_the_request_line_names_the_project(
    client: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    bad_setting: dict[str, str],
) -> None:
    """From ``GOOGLE_CLOUD_PROJECT``, read with the settings, or alone when they are bad."""
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "my-project")
    for name, value in bad_setting.items():
        monkeypatch.setenv(name, value)
    client.get("/", headers={"X-Cloud-Trace-Context": TRACE})
    [line] = request_lines(capsys)
    assert line["logging.googleapis.com/trace"] == f"projects/my-project/traces/{TRACE}"


@pytest.mark.parametrize("header", ["", "garbage", "00-short-00f067aa0ba902b7-01", "xyz/1;o=1"])
def test_malformed_trace_headers_are_ignored(header: str) -> None:
    assert logs.trace_fields(header, header) == {}


def test_http_request_fields() -> None:
    fields = logs.http_request_fields(
        method="POST",
        path="/predict",
        status=200,
        latency_seconds=0.0123456,
        request_size=30,
        response_size=200,
        user_agent="curl/8",
    )
    assert fields == {
        "requestMethod": "POST",
        "requestUrl": "/predict",
        "status": 200,
        "latency": "0.012346s",
        "requestSize": "30",
        "responseSize": "200",
        "userAgent": "curl/8",
    }


def request_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The request lines on stdout; process events (``irisserve.event``) are left out."""
    lines = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert all("httpRequest" in line or "event" in line["irisserve"] for line in lines)
    return [line for line in lines if "httpRequest" in line]


def test_a_prediction_logs_one_line_with_its_counts(
    client: FlaskClient, capsys: pytest.CaptureFixture[str]
) -> None:
    body = json.dumps({"instances": [SETOSA, SETOSA, VIRGINICA]})
    response = client.post(
        "/predict",
        data=body,
        content_type="application/json",
        headers={"User-Agent": "probe/1", "X-Cloud-Trace-Context": f"{TRACE}/10;o=1"},
    )
    [line] = request_lines(capsys)
    assert line["severity"] == "INFO"
    assert line["message"] == "POST /predict 200"
    request = line["httpRequest"]
    assert request == {
        "requestMethod": "POST",
        "requestUrl": "/predict",
        "status": 200,
        "latency": request["latency"],
        "requestSize": str(len(body)),
        "responseSize": str(len(response.get_data())),
        "userAgent": "probe/1",
        "remoteIp": "127.0.0.1",
    }
    assert re.fullmatch(r"\d+\.\d{6}s", request["latency"])
    assert line["logging.googleapis.com/trace"] == TRACE
    assert line["logging.googleapis.com/spanId"] == f"{10:016x}"
    assert line["irisserve"] == {
        "model_version": "1.0.0",
        "model_loads": 1,
        "cold": True,
        "load_seconds": line["irisserve"]["load_seconds"],
        "rows": 3,
        "class_counts": {"setosa": 2, "versicolor": 0, "virginica": 1},
        "out_of_range_rows": 0,
        "out_of_range": {},
    }
    assert line["irisserve"]["load_seconds"] > 0


def test_only_the_first_request_is_cold_and_only_the_loading_one_has_load_seconds(
    client: FlaskClient, capsys: pytest.CaptureFixture[str]
) -> None:
    client.get("/")
    client.post("/predict", json={"features": SETOSA})
    client.post("/predict", json={"features": SETOSA})
    lines = [line["irisserve"] for line in request_lines(capsys)]
    assert [line["cold"] for line in lines] == [True, False, False]
    assert ["load_seconds" in line for line in lines] == [False, True, False]


def test_after_an_eager_load_the_first_request_is_cold_without_load_seconds(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("IRISSERVE_EAGER_LOAD", "1")
    wsgi.warm_up()
    client.post("/predict", json={"features": SETOSA})
    [line] = request_lines(capsys)
    assert line["irisserve"]["cold"] is True
    assert "load_seconds" not in line["irisserve"]


def test_concurrent_requests_one_cold_one_loader() -> None:
    """Of 8 threads arriving together, exactly one is cold and exactly one performs the load."""
    barrier = threading.Barrier(8)

    def request(_: int) -> tuple[bool, float | None]:
        barrier.wait()
        cold = state.begin_request()
        state.get_model(Settings())
        return cold, state.load_seconds_this_request()

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(request, range(8)))
    assert sum(cold for cold, _ in results) == 1
    assert sum(seconds is not None for _, seconds in results) == 1
    state.reset()
    assert state.begin_request() is True


@pytest.mark.parametrize(
    ("send", "status", "code", "kind"),
    [
        ({"data": b"{oops"}, 400, "malformed_json", "MalformedJSON"),
        ({"json": {"features": [1]}}, 400, "invalid_input", "InvalidInput"),
        ({"content_type": "text/plain"}, 415, "unsupported_media_type", "UnsupportedMediaType"),
    ],
)
def test_client_errors_log_at_warning_with_code_and_type(
    client: FlaskClient,
    capsys: pytest.CaptureFixture[str],
    send: dict[str, Any],
    status: int,
    code: str,
    kind: str,
) -> None:
    """A 4xx is the caller's mistake, not the service's: WARNING, so ERROR means "page me"."""
    response = client.post("/predict", **{"content_type": "application/json", **send})
    assert response.status_code == status
    [line] = request_lines(capsys)
    assert line["severity"] == "WARNING"
    assert line["httpRequest"]["status"] == status
    assert line["irisserve"]["error_code"] == code
    assert line["irisserve"]["error_type"] == kind
    assert "traceback" not in line["irisserve"]


def test_server_errors_log_at_error_and_a_bug_logs_its_traceback(
    client: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("IRISSERVE_MODEL_DIR", str(tmp_path / "nothing-here"))
    assert client.post("/predict", json={"features": SETOSA}).status_code == 503
    monkeypatch.delenv("IRISSERVE_MODEL_DIR")
    state.reset()  # settings are read once per process
    monkeypatch.setattr("irisserve.protocols.native.parse_body", lambda *_: 1 / 0)
    response = client.post("/predict", json={"features": SETOSA})
    assert response.status_code == 500
    unavailable, bug = request_lines(capsys)
    assert unavailable["severity"] == "ERROR"
    assert unavailable["irisserve"]["error_code"] == "artifact_missing"
    assert unavailable["irisserve"]["error_type"] == "ArtifactMissing"
    assert "traceback" not in unavailable["irisserve"]
    assert bug["severity"] == "ERROR"
    assert bug["irisserve"]["error_type"] == "ZeroDivisionError"
    assert "ZeroDivisionError" in bug["irisserve"]["traceback"]
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_closed_stdout_does_not_fail_a_prediction(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = {"instances": [SETOSA, VIRGINICA]}
    expected = client.post("/predict", json=payload).get_data()
    state.reset()  # the cold request again: it loads the model, which logs too
    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr(sys, "stdout", closed)
    response = client.post("/predict", json=payload)
    assert response.status_code == 200
    assert response.get_data() == expected
    assert client.post("/predict", json={"features": [1]}).status_code == 400


@pytest.mark.parametrize(
    "irisserve",
    [
        {"rows": 3, "latency": 1e-05, "nested": {"ok": [True, None, 2.5]}},
        {"error": "caf\u00e9 \ud800", "id": 2**70, 3: "an int key"},
        {"when": datetime(2026, 1, 2, 3, 4, 5), "path": Path("/tmp/x"), "task": Task("x")},
    ],
)
def test_a_line_parses_to_what_json_would_write(
    irisserve: dict[Any, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    logs.emit("INFO", "hello", irisserve=irisserve)
    out = capsys.readouterr().out
    assert out.isascii()
    assert out.count("\n") == 1
    expected = json.dumps({"irisserve": irisserve}, default=str)
    assert json.loads(out)["irisserve"] == json.loads(expected)["irisserve"]

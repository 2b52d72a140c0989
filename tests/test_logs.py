"""irisserve.logs: Cloud Logging lines, trace correlation, never failing the caller."""

from __future__ import annotations

import io
import json
import sys

import pytest

from irisserve import logs

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


def test_trace_names_the_project_when_known(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "my-project")
    fields = logs.trace_fields(None, TRACE)
    assert fields["logging.googleapis.com/trace"] == f"projects/my-project/traces/{TRACE}"


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

"""The real process's stdout: one Cloud Logging line per request, nothing else, never fatal."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.helpers.support import SETOSA, FunctionProcess

pytestmark = pytest.mark.integration

PROJECT = "demo-project"
TRACE_A = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACE_B = "0af7651916cd43dd8448eb211c80319c"
FAR = [500.0, 3.0, 1.4, 0.2]
PROCESS_EVENTS = {"model_loaded"}


@pytest.fixture(scope="module")
def server() -> Iterator[FunctionProcess]:
    with FunctionProcess(stdout="separate", env={"GOOGLE_CLOUD_PROJECT": PROJECT}) as process:
        yield process


def stdout_lines(process: FunctionProcess, requests: int) -> list[dict[str, Any]]:
    """Every stdout line, parsed, once ``requests`` request lines are there (bounded poll)."""
    deadline = time.monotonic() + 10
    while True:
        lines = [json.loads(text) for text in process.stdout_text().splitlines()]
        logged = sum("httpRequest" in line for line in lines)
        if logged >= requests or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def test_one_line_per_request_and_nothing_else(server: FunctionProcess) -> None:
    sent: list[tuple[str, str, int, int, float]] = []  # method, path, status, sizes, seconds

    def call(method: str, path: str, body: bytes | None, headers: dict[str, str]) -> None:
        started = time.perf_counter()
        reply = server.request(method, path, body, {"User-Agent": "probe/1", **headers})
        sent.append((method, path, reply.status, len(reply.body), time.perf_counter() - started))

    json_type = {"Content-Type": "application/json"}
    predict = json.dumps({"instances": [SETOSA, FAR]}).encode()
    call("GET", "/", None, {"traceparent": f"00-{TRACE_A}-00f067aa0ba902b7-01"})
    call("POST", "/predict", predict, {**json_type, "X-Cloud-Trace-Context": f"{TRACE_B}/7;o=1"})
    call("POST", "/predict", b'{"features": [1]}', json_type)
    call("GET", "/nowhere", None, {})
    call("POST", "/", predict, json_type)

    lines = stdout_lines(server, len(sent))
    requests = [line for line in lines if "httpRequest" in line]
    events = [line["irisserve"]["event"] for line in lines if "httpRequest" not in line]
    assert set(events) <= PROCESS_EVENTS
    assert events.count("model_loaded") == 1
    assert len(requests) == len(sent)

    for line, (method, path, status, size, seconds) in zip(requests, sent, strict=True):
        http = line["httpRequest"]
        assert (http["requestMethod"], http["requestUrl"], http["status"]) == (method, path, status)
        assert line["message"] == f"{method} {path} {status}"
        assert line["severity"] == ("INFO" if status < 400 else "WARNING")
        assert http["responseSize"] == str(size)
        assert http["userAgent"] == "probe/1"
        assert http["remoteIp"] == "127.0.0.1"
        latency = re.fullmatch(r"(\d+\.\d{6})s", http["latency"])
        assert latency is not None
        assert 0 < float(latency[1]) <= seconds  # the server's part of the round trip

    health, traced, invalid, missing, batch = requests
    assert health["logging.googleapis.com/trace"] == f"projects/{PROJECT}/traces/{TRACE_A}"
    assert health["logging.googleapis.com/spanId"] == "00f067aa0ba902b7"
    assert traced["logging.googleapis.com/trace"] == f"projects/{PROJECT}/traces/{TRACE_B}"
    assert traced["logging.googleapis.com/spanId"] == f"{7:016x}"
    assert "logging.googleapis.com/trace" not in invalid
    assert traced["httpRequest"]["requestSize"] == str(len(predict))

    assert [line["irisserve"]["cold"] for line in requests] == [True] + [False] * 4
    loaded = ["load_seconds" in line["irisserve"] for line in requests]
    assert loaded == [False, True, False, False, False]  # GET / does not load; the predict does
    for line in (traced, batch):
        assert line["irisserve"]["rows"] == 2
        assert line["irisserve"]["class_counts"] == {"setosa": 1, "versicolor": 1, "virginica": 0}
        assert line["irisserve"]["out_of_range_rows"] == 1
        assert line["irisserve"]["out_of_range"] == {"sepal_length": 1}
        assert line["irisserve"]["model_version"] == "1.0.0"
    assert invalid["irisserve"]["error_code"] == "invalid_input"
    assert invalid["irisserve"]["error_type"] == "InvalidInput"
    assert missing["irisserve"]["error_code"] == "not_found"


def test_a_closed_stdout_does_not_fail_predictions(client: FlaskClient) -> None:
    payload = {"instances": [SETOSA, FAR]}
    expected = client.post("/predict", json=payload).get_data()  # in-process, same code
    with FunctionProcess(stdout="closed") as process:
        for _ in range(3):  # the first loads the model, which logs too
            reply = process.post_json("/predict", payload)
            assert reply.status == 200
            assert reply.body == expected
        assert process.post_json("/predict", {"features": [1]}).status == 400
        assert process.process is not None
        assert process.process.poll() is None

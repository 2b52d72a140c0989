"""irisserve.protocols.events.delivery through both entry points (functions-framework's
test client), no
topic configured: a push is answered 200 (ack) or 503 (nack), a CloudEvent returns or
raises, and results and dead letters go to the log. With a real broker:
tests/integration/test_pubsub_push_and_eventarc.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent
from flask.testing import FlaskClient
from functions_framework import create_app

from irisserve.artifact.model import Model
from irisserve.protocols.events.messages import MESSAGE_PUBLISHED
from tests.helpers.processes import MAIN
from tests.helpers.support import SETOSA, VIRGINICA, http_answer, push_envelope


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("path", ["/", "/predict"])
def test_push_result_is_logged_and_acked(
    client: FlaskClient, model: Model, capsys: pytest.CaptureFixture[str], path: str
) -> None:
    body = {"instances": [SETOSA, VIRGINICA]}
    reply = client.post(path, json=push_envelope(json.dumps(body).encode(), "m-5"))
    assert reply.status_code == 200
    assert reply.get_json() == {"message_id": "m-5", "outcome": "scored", "destination": "log"}
    result_line, request_line = json_lines(capsys.readouterr().out)[-2:]
    assert result_line["severity"] == "INFO"
    assert result_line["irisserve"]["result"] == {**http_answer(client, body), "message_id": "m-5"}
    assert request_line["irisserve"]["message_id"] == "m-5"
    assert request_line["irisserve"]["outcome"] == "scored"


def test_push_poison_is_logged_at_error_and_acked(
    client: FlaskClient, capsys: pytest.CaptureFixture[str]
) -> None:
    reply = client.post("/predict", json=push_envelope(b'{"features": [1]}', "m-6", team="a"))
    assert reply.status_code == 200
    assert reply.get_json()["outcome"] == "dead_lettered"
    line = json_lines(capsys.readouterr().out)[-2]
    assert line["severity"] == "ERROR"
    assert "m-6" in line["message"]
    assert line["irisserve"]["message_id"] == "m-6"
    assert line["irisserve"]["error_code"] == "invalid_input"
    assert "expected 4 features" in line["irisserve"]["error"]
    assert line["irisserve"]["attributes"] == {"team": "a"}


def test_push_without_a_model_is_nacked_with_retry_after(
    client: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("IRISSERVE_MODEL_DIR", str(tmp_path / "missing"))
    reply = client.post("/", json=push_envelope(json.dumps({"features": SETOSA}).encode(), "m-7"))
    assert reply.status_code == 503
    assert reply.get_json()["code"] == "artifact_missing"
    assert reply.headers["Retry-After"] == "5"
    request_line = json_lines(capsys.readouterr().out)[-1]
    assert request_line["irisserve"]["message_id"] == "m-7"


@pytest.fixture(scope="module")
def event_client() -> FlaskClient:
    return create_app(
        target="predict_event", source=str(MAIN), signature_type="cloudevent"
    ).test_client()


def event(data: bytes, message_id: str) -> CloudEvent:
    attributes = {
        "type": MESSAGE_PUBLISHED,
        "source": "//pubsub.googleapis.com/projects/p/topics/t",
        "id": message_id,
        "datacontenttype": "application/json",
    }
    return CloudEvent(attributes, push_envelope(data, message_id))


@pytest.mark.parametrize("mode", [to_binary, to_structured])
def test_cloud_event_is_scored_or_dead_lettered_then_acked(
    event_client: FlaskClient,
    client: FlaskClient,
    model: Model,
    capsys: pytest.CaptureFixture[str],
    mode: Any,
) -> None:
    headers, body = mode(event(json.dumps({"features": SETOSA}).encode(), "ce-1"))
    assert event_client.post("/", headers=headers, data=body).status_code == 200
    headers, body = mode(event(b"{", "ce-2"))
    assert event_client.post("/", headers=headers, data=body).status_code == 200
    scored, acked_1, poison, acked_2 = json_lines(capsys.readouterr().out)[-4:]
    assert scored["irisserve"]["result"] == {
        **http_answer(client, {"features": SETOSA}),
        "message_id": "ce-1",
    }
    assert acked_1["irisserve"] == {"message_id": "ce-1", "outcome": "scored", "destination": "log"}
    assert (poison["severity"], poison["irisserve"]["error_code"]) == ("ERROR", "malformed_json")
    assert acked_2["irisserve"]["outcome"] == "dead_lettered"


def test_cloud_event_without_a_model_raises_for_a_retry(
    event_client: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("IRISSERVE_MODEL_DIR", str(tmp_path / "missing"))
    headers, body = to_binary(event(json.dumps({"features": SETOSA}).encode(), "ce-3"))
    assert event_client.post("/", headers=headers, data=body).status_code == 500
    line = next(line for line in json_lines(capsys.readouterr().out) if "ce-3" in line["message"])
    assert line["severity"] == "ERROR"
    assert line["irisserve"]["error_code"] == "artifact_missing"

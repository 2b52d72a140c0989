"""Pub/Sub messages without a broker: decoding, the score-or-dead-letter decision, the
topic settings, and both entry points through functions-framework's test client with
no topic configured (results and dead letters go to the log).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent
from flask.testing import FlaskClient
from functions_framework import create_app

from irisserve.artifact import open_artifact
from irisserve.config import Settings
from irisserve.errormap import error_status
from irisserve.errors import (
    BatchTooLarge,
    ConfigurationError,
    InvalidInput,
    MalformedEnvelope,
    MalformedJSON,
    ModelUnavailable,
    NotBase64,
)
from irisserve.events import (
    MESSAGE_PUBLISHED,
    Message,
    Poison,
    Scored,
    decide,
    decode_cloud_event,
    decode_push,
)
from irisserve.manifest import read_manifest
from irisserve.model import Model
from tests.support import BUNDLED, MAIN, SETOSA

VIRGINICA = [6.5, 3.0, 5.5, 2.0]
NAMED_VIRGINICA = dict(zip(read_manifest(BUNDLED).feature_names, VIRGINICA, strict=True))
TOPIC_VARIABLES = ("IRISSERVE_RESULT_TOPIC", "IRISSERVE_DEAD_LETTER_TOPIC")


@pytest.fixture(autouse=True)
def _no_topics(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*TOPIC_VARIABLES, "IRISSERVE_PUBLISH_TIMEOUT_SECONDS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def model() -> Model:
    return open_artifact(BUNDLED)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def message(body: Any, message_id: str = "m-1", **attributes: str) -> Message:
    return Message(message_id, b64(json.dumps(body).encode()), dict(attributes))


def envelope(data: bytes, message_id: str = "m-1", **attributes: str) -> dict[str, Any]:
    return {
        "message": {
            "data": b64(data),
            "attributes": attributes,
            "messageId": message_id,
            "publishTime": "2026-01-01T00:00:00.000Z",
        },
        "subscription": "projects/p/subscriptions/s",
    }


# -- decoding ------------------------------------------------------------------------


def test_decode_push_reads_every_field() -> None:
    decoded = decode_push(envelope(b'{"features": []}', "42", team="a"))
    assert decoded == Message(
        message_id="42",
        data=b64(b'{"features": []}'),
        attributes={"team": "a"},
        publish_time="2026-01-01T00:00:00.000Z",
        subscription="projects/p/subscriptions/s",
    )


def test_decode_push_reads_snake_case_and_missing_optionals() -> None:
    decoded = decode_push({"message": {"message_id": "7", "publish_time": "t"}})
    assert decoded == Message("7", publish_time="t")


@pytest.mark.parametrize(
    ("body", "message_id", "attributes", "defect"),
    [
        ([1, 2], "", {}, "JSON object"),
        ({"message": "hello"}, "", {}, '"message" must be an object'),
        ({"message": {"data": "e30="}}, "", {}, '"messageId" is missing'),
        ({"message": {"messageId": 5, "data": "e30="}}, "", {}, '"messageId" is missing'),
        ({"message": {"messageId": "9", "data": 5}}, "9", {}, '"data" must be'),
        ({"message": {"messageId": "9", "attributes": ["a"]}}, "9", {}, '"attributes" must'),
        (
            {"message": {"messageId": "9", "attributes": {"a": "1", "b": 2}}},
            "9",
            {"a": "1"},
            '"attributes" must',
        ),
    ],
)
def test_decode_push_records_what_is_wrong_and_keeps_the_rest(
    body: Any, message_id: str, attributes: dict[str, str], defect: str
) -> None:
    decoded = decode_push(body)
    assert decoded.defect is not None
    assert defect in decoded.defect
    assert (decoded.message_id, decoded.attributes) == (message_id, attributes)


def test_decode_cloud_event() -> None:
    data = envelope(b"{}", "42", team="a")
    decoded = decode_cloud_event({"type": MESSAGE_PUBLISHED, "id": "42"}, data)
    assert decoded == decode_push(data)


def test_cloud_event_id_stands_in_for_a_missing_message_id() -> None:
    data = {"message": {"data": b64(b"{}")}}
    decoded = decode_cloud_event({"type": MESSAGE_PUBLISHED, "id": "ce-7"}, data)
    assert (decoded.message_id, decoded.defect) == ("ce-7", None)


@pytest.mark.parametrize(
    ("attributes", "data", "defect"),
    [
        ({"type": "google.cloud.storage.object.v1.finalized", "id": "1"}, envelope(b"{}"), "type"),
        ({"type": MESSAGE_PUBLISHED, "id": "1"}, b'{"message": {}}', "JSON object"),
        ({"type": MESSAGE_PUBLISHED, "id": "1"}, None, "JSON object"),
    ],
)
def test_cloud_event_defects(attributes: dict[str, str], data: Any, defect: str) -> None:
    decoded = decode_cloud_event(attributes, data)
    assert decoded.defect is not None
    assert defect in decoded.defect


# -- the decision --------------------------------------------------------------------


def http_answer(client: FlaskClient, body: Any) -> dict[str, Any]:
    """What the HTTP API answers for ``body``."""
    reply = client.post("/predict", json=body)
    assert reply.status_code == 200
    answer: dict[str, Any] = reply.get_json()
    return answer


@pytest.mark.parametrize(
    "body",
    [
        {"features": SETOSA},
        {"features": NAMED_VIRGINICA},
        {"instances": [SETOSA, VIRGINICA, SETOSA]},
    ],
)
def test_scored_is_the_http_answer_plus_the_message_id(
    client: FlaskClient, model: Model, body: Any
) -> None:
    decision = decide(message(body, "m-9"), lambda: model, Settings(max_batch_rows=10_000))
    assert isinstance(decision, Scored)
    assert decision.result == {**http_answer(client, body), "message_id": "m-9"}


@pytest.mark.parametrize(
    ("data", "kind", "code"),
    [
        ("%%%", NotBase64, "not_base64"),
        (b64(b"not json"), MalformedJSON, "malformed_json"),
        (b64(b"\xff"), MalformedJSON, "malformed_json"),
        ("", MalformedJSON, "malformed_json"),
        (b64(b'{"features": [1, 2]}'), InvalidInput, "invalid_input"),
        (b64(b'{"features": [1, 2, 3, 4], "extra": 1}'), InvalidInput, "invalid_input"),
        (
            b64(b'{"instances": [[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]]}'),
            BatchTooLarge,
            "batch_too_large",
        ),
    ],
)
def test_poison(model: Model, data: str, kind: type[Exception], code: str) -> None:
    decision = decide(Message("m-1", data), lambda: model, Settings(max_batch_rows=2))
    assert isinstance(decision, Poison)
    assert type(decision.error) is kind
    assert error_status(decision.error)[1] == code
    assert decision.reason == str(decision.error)


def test_rows_whose_scores_overflow_are_poison_not_an_exception(model: Model) -> None:
    data = b64(json.dumps({"features": [1e308, 1e308, 1e308, 1e308]}).encode())
    decision = decide(Message("m-2", data), lambda: model, Settings())
    assert isinstance(decision, Poison)
    assert error_status(decision.error) == (400, "invalid_input")


def test_a_row_outside_the_training_range_carries_warnings(
    client: FlaskClient, model: Model
) -> None:
    far = [5.1, 3.5, 100.0, 0.2]
    decision = decide(message({"features": far}, "m-5"), lambda: model, Settings())
    assert isinstance(decision, Scored)
    assert [w["feature"] for w in decision.result["warnings"]] == ["petal_length"]
    assert decision.result == {**http_answer(client, {"features": far}), "message_id": "m-5"}


def test_a_malformed_envelope_is_poison(model: Model) -> None:
    decision = decide(decode_push({"message": "x"}), lambda: model, Settings(max_batch_rows=10))
    assert isinstance(decision, Poison)
    assert isinstance(decision.error, MalformedEnvelope)
    assert error_status(decision.error)[1] == "malformed_envelope"


def test_unreadable_data_is_poison_without_loading_the_model() -> None:
    def unavailable() -> Model:
        raise ModelUnavailable("no model")

    assert isinstance(
        decide(Message("m", b64(b"nope")), unavailable, Settings(max_batch_rows=10)), Poison
    )
    with pytest.raises(ModelUnavailable):
        decide(message({"features": SETOSA}), unavailable, Settings(max_batch_rows=10))


def test_the_result_message_carries_the_source_attributes(model: Model) -> None:
    decision = decide(
        message({"features": SETOSA}, "m-3", team="a"), lambda: model, Settings(max_batch_rows=10)
    )
    assert isinstance(decision, Scored)
    out = decision.outbound()
    assert json.loads(out.data) == decision.result
    assert out.attributes == {"team": "a", "source_message_id": "m-3"}


@pytest.mark.parametrize(
    ("data", "original"), [(b64(b"\x00raw\xff"), b"\x00raw\xff"), ("%%%", b"%%%")]
)
def test_the_dead_letter_holds_the_original_data_attributes_and_reason(
    model: Model, data: str, original: bytes
) -> None:
    decision = decide(
        Message("m-4", data, {"team": "a"}), lambda: model, Settings(max_batch_rows=10)
    )
    assert isinstance(decision, Poison)
    out = decision.outbound("some_code")
    assert out.data == original
    assert out.attributes == {
        "team": "a",
        "source_message_id": "m-4",
        "dead_letter_reason": str(decision.error),
        "dead_letter_code": "some_code",
    }


def test_the_reason_fits_a_pubsub_attribute() -> None:
    poison = Poison(Message("m"), InvalidInput("é" * 1000))
    assert len(poison.reason.encode()) <= 1024
    assert poison.reason == "é" * 512


# -- settings ------------------------------------------------------------------------


def test_topic_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (Settings.from_env().result_topic, Settings.from_env().dead_letter_topic) == (None, None)
    monkeypatch.setenv("IRISSERVE_RESULT_TOPIC", " projects/p/topics/results ")
    monkeypatch.setenv("IRISSERVE_DEAD_LETTER_TOPIC", "projects/p/topics/dead")
    monkeypatch.setenv("IRISSERVE_PUBLISH_TIMEOUT_SECONDS", "2.5")
    settings = Settings.from_env()
    assert settings.result_topic == "projects/p/topics/results"
    assert settings.dead_letter_topic == "projects/p/topics/dead"
    assert settings.publish_timeout_seconds == 2.5


@pytest.mark.parametrize("name", TOPIC_VARIABLES)
@pytest.mark.parametrize(
    "value",
    ["results", "projects/p/topics/", "projects/p/subscriptions/s", "projects/p/topics/t/x"],
)
def test_a_topic_must_be_a_full_path(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env()


# -- the entry points, no topic configured -------------------------------------------


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("path", ["/", "/predict"])
def test_push_result_is_logged_and_acked(
    client: FlaskClient, model: Model, capsys: pytest.CaptureFixture[str], path: str
) -> None:
    body = {"instances": [SETOSA, VIRGINICA]}
    reply = client.post(path, json=envelope(json.dumps(body).encode(), "m-5"))
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
    reply = client.post("/predict", json=envelope(b'{"features": [1]}', "m-6", team="a"))
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
    reply = client.post("/", json=envelope(json.dumps({"features": SETOSA}).encode(), "m-7"))
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
    return CloudEvent(attributes, envelope(data, message_id))


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

"""irisserve.protocols.events.messages: Pub/Sub envelopes and CloudEvents decoded into one
message, and the
score-or-dead-letter decision (pure: no broker, no HTTP)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from irisserve.artifact.model import Model
from irisserve.config import Settings
from irisserve.errors import (
    BatchTooLarge,
    InvalidInput,
    MalformedEnvelope,
    MalformedJSON,
    ModelUnavailable,
    NotBase64,
)
from irisserve.protocols.events.messages import (
    MESSAGE_PUBLISHED,
    Message,
    Poison,
    Scored,
    decide,
    decode_cloud_event,
    decode_push,
)
from irisserve.serving.errortable import error_status
from tests.helpers.support import NAMED_VIRGINICA, SETOSA, VIRGINICA, http_answer, push_envelope


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def message(body: Any, message_id: str = "m-1", **attributes: str) -> Message:
    return Message(message_id, b64(json.dumps(body).encode()), dict(attributes))


# -- decoding ------------------------------------------------------------------------


def test_decode_push_reads_every_field() -> None:
    decoded = decode_push(push_envelope(b'{"features": []}', "42", team="a"))
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
    data = push_envelope(b"{}", "42", team="a")
    decoded = decode_cloud_event({"type": MESSAGE_PUBLISHED, "id": "42"}, data)
    assert decoded == decode_push(data)


def test_cloud_event_id_stands_in_for_a_missing_message_id() -> None:
    data = {"message": {"data": b64(b"{}")}}
    decoded = decode_cloud_event({"type": MESSAGE_PUBLISHED, "id": "ce-7"}, data)
    assert (decoded.message_id, decoded.defect) == ("ce-7", None)


@pytest.mark.parametrize(
    ("attributes", "data", "defect"),
    [
        (
            {"type": "google.cloud.storage.object.v1.finalized", "id": "1"},
            push_envelope(b"{}"),
            "type",
        ),
        ({"type": MESSAGE_PUBLISHED, "id": "1"}, b'{"message": {}}', "JSON object"),
        ({"type": MESSAGE_PUBLISHED, "id": "1"}, None, "JSON object"),
    ],
)
def test_cloud_event_defects(attributes: dict[str, str], data: Any, defect: str) -> None:
    decoded = decode_cloud_event(attributes, data)
    assert decoded.defect is not None
    assert defect in decoded.defect


# -- the decision --------------------------------------------------------------------


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

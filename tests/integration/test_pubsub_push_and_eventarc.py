"""Pub/Sub push and Eventarc CloudEvents on the real Pub/Sub emulator: nothing lost.

Every test talks to real parts: the emulator (started once per session), real
functions-framework processes on loopback as push endpoints, the official client.
The emulator redelivers a nacked push about once a second, two pushes in flight.
"""

from __future__ import annotations

import base64
import json
import os
import signal
from pathlib import Path
from typing import Any

import flask
import pytest
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent

from irisserve.artifact.manifest import read_manifest
from irisserve.artifact.model import Model
from irisserve.protocols.events.messages import MESSAGE_PUBLISHED
from irisserve.protocols.predictions import predictions_payload
from irisserve.schema import parse_body
from tests.helpers.processes import free_port
from tests.helpers.pubsub_emulator import Emulator, Received, wait_until
from tests.helpers.support import BUNDLED, FunctionProcess, copy_bundled

pytestmark = pytest.mark.integration

MAX_ROWS = 20
ROWS = [
    [5.1, 3.5, 1.4, 0.2],
    [7.0, 3.2, 4.7, 1.4],
    [6.3, 3.3, 6.0, 2.5],
    [4.9, 3.0, 1.4, 0.2],
    [5.9, 3.0, 5.1, 1.8],
    [6.4, 3.2, 4.5, 1.5],
]
NAMED = dict(zip(read_manifest(BUNDLED).feature_names, ROWS[1], strict=True))

#: Poison data as Pub/Sub delivers it, and the dead-letter code each must get.
POISON: list[tuple[bytes, str]] = [
    (b"not json at all", "malformed_json"),
    (b"\xff\xfe\x00", "malformed_json"),
    (b"", "malformed_json"),
    (b'{"features": NaN}', "malformed_json"),
    (b'{"features": [1, 2, 3]}', "invalid_input"),
    (b'{"features": [1, "a", 3, 4]}', "invalid_input"),
    (b'{"instances": []}', "invalid_input"),
    (b"[5.1, 3.5, 1.4, 0.2]", "invalid_input"),
    (json.dumps({"instances": [ROWS[0]] * (MAX_ROWS + 1)}).encode(), "batch_too_large"),
]


def expected_result(model: Model, data: bytes, message_id: str) -> dict[str, Any]:
    """What the HTTP API answers for ``data``, plus the source message id."""
    rows = parse_body(json.loads(data), model.schema, MAX_ROWS)
    payload = predictions_payload(model, model.predict_rows(rows.data), rows.single)
    return {**payload, "message_id": message_id}


def function_env(emulator: Emulator, results: str, dead_letters: str) -> dict[str, str]:
    return {
        "PUBSUB_EMULATOR_HOST": emulator.host,
        "IRISSERVE_RESULT_TOPIC": results,
        "IRISSERVE_DEAD_LETTER_TOPIC": dead_letters,
        "IRISSERVE_MAX_BATCH_ROWS": str(MAX_ROWS),
    }


def valid_messages(count: int) -> list[tuple[bytes, dict[str, str]]]:
    """Single rows (lists and named), and batches of 2 to 5 rows, with attributes."""
    messages = []
    for i in range(count):
        if i % 3 == 0:
            body: dict[str, Any] = {
                "instances": [ROWS[(i + j) % len(ROWS)] for j in range(2 + i % 4)]
            }
        elif i % 3 == 1:
            body = {"features": ROWS[i % len(ROWS)]}
        else:
            body = {"features": NAMED}
        messages.append((json.dumps(body).encode(), {"caller": "test", "n": str(i)}))
    return messages


def assert_results(
    model: Model,
    found: dict[str, list[Received]],
    sent: dict[str, tuple[bytes, dict[str, str]]],
) -> None:
    """Every copy of every result is the library's prediction, attributes carried over."""
    for message_id, (data, attributes) in sent.items():
        want = expected_result(model, data, message_id)
        for copy in found[message_id]:
            assert json.loads(copy.data) == want
            assert copy.attributes == {**attributes, "source_message_id": message_id}


def test_push_end_to_end_results_and_dead_letters(emulator: Emulator, model: Model) -> None:
    results, dead = emulator.topic("results"), emulator.topic("dead-letters")
    results_sub, dead_sub = emulator.pull_subscription(results), emulator.pull_subscription(dead)
    with FunctionProcess(env=function_env(emulator, results, dead)) as fn:
        sent: dict[str, tuple[bytes, dict[str, str]]] = {}
        poison: dict[str, tuple[bytes, dict[str, str], str]] = {}
        for path in ("/", "/predict"):
            source = emulator.topic("requests")
            emulator.push_subscription(source, fn.url + path)
            valid = valid_messages(9)
            sent.update(zip(emulator.publish(source, valid), valid, strict=True))
            bad = [(data, {"case": str(i)}) for i, (data, _) in enumerate(POISON)]
            ids = emulator.publish(source, bad)
            poison.update(
                (mid, (data, attrs, code))
                for mid, (data, attrs), (_, code) in zip(ids, bad, POISON, strict=True)
            )
        # Hand-made envelopes Pub/Sub itself never sends: not base64, malformed.
        not_base64 = {"message": {"data": "%%%", "messageId": "hand-1", "attributes": {"a": "1"}}}
        malformed = {"message": {"data": 5, "messageId": "hand-2"}}
        for envelope in (not_base64, malformed):
            reply = fn.post_json("/predict", envelope)
            assert reply.status == 200, reply.body
            assert reply.json()["outcome"] == "dead_lettered"

        found = emulator.collect(results_sub, "source_message_id", sent, timeout=45)
        dead_found = emulator.collect(
            dead_sub, "source_message_id", [*poison, "hand-1", "hand-2"], timeout=45
        )
    assert_results(model, found, sent)
    assert not set(found) & set(poison), "a poison message produced a result"
    assert not set(dead_found) & set(sent), "a valid message was dead-lettered"
    for message_id, (data, attributes, code) in poison.items():
        for copy in dead_found[message_id]:
            assert copy.data == data
            assert copy.attributes["dead_letter_code"] == code
            assert copy.attributes["dead_letter_reason"]
            reason = {k: copy.attributes[k] for k in ("dead_letter_code", "dead_letter_reason")}
            assert copy.attributes == {**attributes, "source_message_id": message_id, **reason}
    (hand_1,) = dead_found["hand-1"]
    assert (hand_1.data, hand_1.attributes["dead_letter_code"]) == (b"%%%", "not_base64")
    assert hand_1.attributes["a"] == "1"
    (hand_2,) = dead_found["hand-2"]
    assert hand_2.attributes["dead_letter_code"] == "malformed_envelope"
    assert '"data"' in hand_2.attributes["dead_letter_reason"]


def nacks(fn: FunctionProcess) -> dict[str, int]:
    """How many times each message id was answered 503 (nacked)."""
    counts: dict[str, int] = {}
    for line in fn.log_lines():
        message_id = line.get("irisserve", {}).get("message_id")
        if message_id and line.get("httpRequest", {}).get("status") == 503:
            counts[message_id] = counts.get(message_id, 0) + 1
    return counts


def test_model_unavailable_nacks_until_restored_none_lost(
    emulator: Emulator, model: Model, tmp_path: Path
) -> None:
    artifact = copy_bundled(tmp_path / "artifact")
    away = artifact.rename(tmp_path / "away")
    results, dead = emulator.topic("results"), emulator.topic("dead-letters")
    results_sub = emulator.pull_subscription(results)
    env = {**function_env(emulator, results, dead), "IRISSERVE_MODEL_DIR": str(artifact)}
    with FunctionProcess(env=env) as fn:
        source = emulator.topic("requests")
        emulator.push_subscription(source, fn.url)
        valid = valid_messages(8)
        sent = dict(zip(emulator.publish(source, valid), valid, strict=True))

        wait_until(
            lambda: all(nacks(fn).get(mid, 0) >= 2 for mid in sent),
            timeout=30,
            what="every message to be nacked and redelivered",
        )
        assert emulator.pull(results_sub) == []
        away.rename(artifact)
        found = emulator.collect(results_sub, "source_message_id", sent, timeout=30)
    assert_results(model, found, sent)


def worker_pid(master: int) -> int:
    """The gunicorn worker: the one child of the functions-framework process."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[1]) == master:
            children.append(int(stat.parent.name))
    assert len(children) == 1, children
    return children[0]


def test_worker_killed_mid_stream_loses_nothing(emulator: Emulator, model: Model) -> None:
    results, dead = emulator.topic("results"), emulator.topic("dead-letters")
    results_sub = emulator.pull_subscription(results)
    with FunctionProcess(env=function_env(emulator, results, dead)) as fn:
        assert fn.process is not None
        source = emulator.topic("requests")
        emulator.push_subscription(source, fn.url)
        valid = valid_messages(400)
        sent = dict(zip(emulator.publish(source, valid), valid, strict=True))

        early: list[Received] = []

        def started() -> bool:
            early.extend(emulator.pull(results_sub))
            return len(early) >= 20

        wait_until(started, timeout=30, what="the first results")
        victim = worker_pid(fn.process.pid)
        os.kill(victim, signal.SIGKILL)
        assert len({m.attributes["source_message_id"] for m in early}) < len(sent)

        rest = set(sent) - {m.attributes["source_message_id"] for m in early}
        found = emulator.collect(results_sub, "source_message_id", rest, timeout=60)
        assert worker_pid(fn.process.pid) != victim  # gunicorn started a new worker
    for message in early:
        found.setdefault(message.attributes["source_message_id"], []).append(message)
    assert set(sent) <= set(found)
    assert_results(model, found, sent)


def cloud_event(message_id: str, data: bytes, attributes: dict[str, str]) -> CloudEvent:
    """What Eventarc delivers for a message published to a topic."""
    return CloudEvent(
        {
            "type": MESSAGE_PUBLISHED,
            "source": "//pubsub.googleapis.com/projects/irisserve-test/topics/requests",
            "id": message_id,
            "datacontenttype": "application/json",
        },
        {
            "subscription": "projects/irisserve-test/subscriptions/eventarc-sub",
            "message": {
                "data": base64.b64encode(data).decode(),
                "attributes": attributes,
                "messageId": message_id,
                "publishTime": "2026-01-01T00:00:00.000Z",
            },
        },
    )


def test_cloud_event_entry_point_binary_and_structured(emulator: Emulator, model: Model) -> None:
    results, dead = emulator.topic("results"), emulator.topic("dead-letters")
    results_sub, dead_sub = emulator.pull_subscription(results), emulator.pull_subscription(dead)
    env = function_env(emulator, results, dead)
    valid = valid_messages(4)
    sent = {f"ce-{i}": message for i, message in enumerate(valid)}
    poison = {"ce-bad-1": POISON[0], "ce-bad-2": POISON[4]}
    fn = FunctionProcess(target="predict_event", signature_type="cloudevent", env=env)
    with fn:
        events = [(mid, data, attrs) for mid, (data, attrs) in sent.items()]
        events += [(mid, data, {"case": mid}) for mid, (data, _) in poison.items()]
        for i, (message_id, data, attributes) in enumerate(events):
            convert = to_binary if i % 2 == 0 else to_structured
            headers, body = convert(cloud_event(message_id, data, attributes))
            reply = fn.request("POST", "/", body, headers)
            assert reply.status == 200, reply.body
        found = emulator.collect(results_sub, "source_message_id", sent, timeout=30)
        dead_found = emulator.collect(dead_sub, "source_message_id", poison, timeout=30)
    assert_results(model, found, sent)
    assert not set(found) & set(poison)
    for message_id, (data, code) in poison.items():
        (copy,) = dead_found[message_id]
        assert copy.data == data
        assert copy.attributes["dead_letter_code"] == code
        assert copy.attributes["case"] == message_id


def test_publish_failure_nacks_then_succeeds(
    emulator: Emulator,
    model: Model,
    client: flask.testing.FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", emulator.host)
    late = f"projects/{emulator.project}/topics/created-late"
    monkeypatch.setenv("IRISSERVE_RESULT_TOPIC", late)
    data = json.dumps({"features": ROWS[2]}).encode()
    envelope = {"message": {"data": base64.b64encode(data).decode(), "messageId": "p-1"}}

    reply = client.post("/predict", json=envelope)
    assert reply.status_code == 503
    assert reply.get_json()["code"] == "publish_failed"
    assert reply.headers["Retry-After"]

    emulator.publisher.create_topic(name=late)
    results_sub = emulator.pull_subscription(late)
    reply = client.post("/predict", json=envelope)
    assert reply.status_code == 200
    assert reply.get_json() == {"message_id": "p-1", "outcome": "scored", "destination": late}
    found = emulator.collect(results_sub, "source_message_id", ["p-1"], timeout=15)
    assert_results(model, found, {"p-1": (data, {})})


def test_an_unreachable_broker_is_a_bounded_nack(
    client: flask.testing.FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", f"127.0.0.1:{free_port()}")  # nobody listens
    monkeypatch.setenv("IRISSERVE_DEAD_LETTER_TOPIC", "projects/p/topics/dead-letters")
    monkeypatch.setenv("IRISSERVE_PUBLISH_TIMEOUT_SECONDS", "1")
    envelope = {"message": {"data": base64.b64encode(b"oops").decode(), "messageId": "u-1"}}
    reply = client.post("/predict", json=envelope)
    assert reply.status_code == 503
    assert reply.get_json()["code"] == "publish_failed"

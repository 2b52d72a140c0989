"""Pub/Sub messages in, a decision out: score it, or say why it never can be. Pure.

A message arrives two ways: a Pub/Sub push envelope
(``{"message": {"data", "attributes", "messageId", "publishTime"}, "subscription"}``)
or an Eventarc CloudEvent of type ``google.cloud.pubsub.topic.v1.messagePublished``
whose data is that same envelope. Both decode into one :class:`Message`; decoding
never raises, it records what is wrong (``defect``) so the message can still be
dead-lettered with whatever could be read. :func:`decide` turns a message into
:class:`Scored` or :class:`Poison`; a transient failure (the model cannot be
loaded) propagates as an exception.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from irisserve import jsoncodec
from irisserve.artifact.model import Model
from irisserve.config import Settings
from irisserve.errors import InvalidInput, MalformedEnvelope, NotBase64
from irisserve.protocols.predictions import predictions_payload
from irisserve.protocols.scored import score
from irisserve.schema import parse_body

__all__ = [
    "MESSAGE_PUBLISHED",
    "Message",
    "Outbound",
    "Poison",
    "Scored",
    "decide",
    "decode_cloud_event",
    "decode_push",
    "original_data",
]

#: The Eventarc event type of a message published to a Pub/Sub topic.
MESSAGE_PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"

#: Pub/Sub's limit on an attribute value, in bytes.
_ATTRIBUTE_LIMIT = 1024


@dataclass(frozen=True)
class Message:
    """A Pub/Sub message as delivered, before anything in its data is trusted.

    ``data`` is the base64 text as delivered; ``defect`` says why the envelope
    itself is unreadable (``None`` when it is well formed).
    """

    message_id: str
    data: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    publish_time: str | None = None
    subscription: str | None = None
    defect: str | None = None


@dataclass(frozen=True)
class Outbound:
    """A message to publish: bytes and string attributes."""

    data: bytes
    attributes: dict[str, str]


@dataclass(frozen=True)
class Scored:
    """The message was scored: ``result`` is the HTTP API's payload plus ``message_id``."""

    message: Message
    result: dict[str, Any]

    def outbound(self) -> Outbound:
        """The result message: the result as JSON, the source attributes carried over."""
        attributes = {**self.message.attributes, "source_message_id": self.message.message_id}
        return Outbound(jsoncodec.encode(self.result), attributes)


@dataclass(frozen=True)
class Poison:
    """The message can never be scored; ``error`` says why."""

    message: Message
    error: InvalidInput

    @property
    def reason(self) -> str:
        """The error message, cut to fit a Pub/Sub attribute value."""
        encoded = str(self.error).encode()[:_ATTRIBUTE_LIMIT]
        return encoded.decode(errors="ignore")

    def outbound(self, code: str) -> Outbound:
        """The dead-letter message: the original data and attributes, plus why."""
        attributes = {
            **self.message.attributes,
            "source_message_id": self.message.message_id,
            "dead_letter_reason": self.reason,
            "dead_letter_code": code,
        }
        return Outbound(original_data(self.message), attributes)


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _defect(message_id: str, data: Any, attributes: Any) -> str | None:
    if not message_id:
        return 'message: "messageId" is missing or not a string'
    if not isinstance(data, str):
        return 'message: "data" must be a base64 string'
    if not isinstance(attributes, dict) or not all(
        isinstance(value, str) for value in attributes.values()
    ):
        return 'message: "attributes" must be an object of strings'
    return None


def _decode(envelope: Any, fallback_id: str | None) -> Message:
    if not isinstance(envelope, dict):
        return Message(fallback_id or "", defect='expected a JSON object with a "message"')
    subscription = _string(envelope.get("subscription"))
    raw = envelope.get("message")
    if not isinstance(raw, dict):
        defect = '"message" must be an object with "data", "attributes" and "messageId"'
        return Message(fallback_id or "", subscription=subscription, defect=defect)
    message_id = _string(raw.get("messageId", raw.get("message_id"))) or fallback_id or ""
    data = raw.get("data", "")
    attributes = raw.get("attributes") or {}
    return Message(
        message_id=message_id,
        data=_string(data) or "",
        attributes=(
            {key: value for key, value in attributes.items() if isinstance(value, str)}
            if isinstance(attributes, dict)
            else {}
        ),
        publish_time=_string(raw.get("publishTime", raw.get("publish_time"))),
        subscription=subscription,
        defect=_defect(message_id, data, attributes),
    )


def decode_push(body: Any) -> Message:
    """The message in a Pub/Sub push envelope (``messageId`` or ``message_id``)."""
    return _decode(body, None)


def decode_cloud_event(attributes: Mapping[str, Any], data: Any) -> Message:
    """The message in an Eventarc ``messagePublished`` CloudEvent (its data is the envelope).

    The event's ``id`` stands in for a missing ``messageId``; any other event
    type is a defect.
    """
    message = _decode(data, _string(attributes.get("id")))
    event_type = attributes.get("type")
    if message.defect is None and event_type != MESSAGE_PUBLISHED:
        return replace(message, defect=f"CloudEvent type {event_type!r} is not {MESSAGE_PUBLISHED}")
    return message


def _data_bytes(message: Message) -> bytes:
    try:
        return base64.b64decode(message.data, validate=True)
    except binascii.Error:
        raise NotBase64(f"message {message.message_id}: data is not base64") from None


def original_data(message: Message) -> bytes:
    """The message's data as published: decoded from base64, or the text as delivered."""
    try:
        return _data_bytes(message)
    except NotBase64:
        return message.data.encode()


def decide(message: Message, model: Callable[[], Model], settings: Settings) -> Scored | Poison:
    """Score ``message``, or say why it never can be.

    ``model`` is called only once the data is readable JSON; its
    ``ModelUnavailable`` (transient: retry later) propagates.
    """
    try:
        if message.defect is not None:
            raise MalformedEnvelope(message.defect)
        body = jsoncodec.decode(_data_bytes(message))
        scorer = model()
        rows = parse_body(body, scorer.schema, settings.max_batch_rows)
        scored = score(scorer, rows.data, settings)
    except InvalidInput as exc:
        return Poison(message, exc)
    payload = predictions_payload(scorer, scored.predictions, rows.single, scored.drift.warnings)
    return Scored(message, {**payload, "message_id": message.message_id})

"""Deliver one Pub/Sub message: score it or dead-letter it, publish, then acknowledge.

The same semantics for a push subscription (:func:`handle_push`, answered over
HTTP) and for Eventarc (:func:`handle_cloud_event`, called by the CloudEvent
entry point):

- scored: the result goes to ``IRISSERVE_RESULT_TOPIC`` (or one INFO log line); ack.
- poison (never scorable): the original message and the reason go to
  ``IRISSERVE_DEAD_LETTER_TOPIC`` (or one ERROR log line); ack.
- transient (``ModelUnavailable``, ``PublishFailed``): the exception propagates,
  which is a 503 for a push (nack) and a failed event for Eventarc; Pub/Sub
  redelivers. Publishing happens before the ack, so a crash in between
  redelivers rather than loses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import flask

from irisserve.config import Settings
from irisserve.protocols.events import _publisher, messages
from irisserve.serving import logs, state
from irisserve.serving.context import Context
from irisserve.serving.errortable import error_status
from irisserve.serving.responses import json_response

if TYPE_CHECKING:
    from cloudevents.abstract import CloudEvent

__all__ = ["LOG", "Ack", "handle_cloud_event", "handle_push", "process"]

#: The destination of a result or dead letter when no topic is configured.
LOG = "log"


@dataclass(frozen=True)
class Ack:
    """What became of an acknowledged message: ``scored`` or ``dead_lettered``, and where."""

    message_id: str
    outcome: str
    destination: str

    def fields(self) -> dict[str, str]:
        """The log and response fields."""
        return {
            "message_id": self.message_id,
            "outcome": self.outcome,
            "destination": self.destination,
        }


def _scored(decision: messages.Scored, settings: Settings) -> Ack:
    message = decision.message
    topic = settings.result_topic
    if topic is None:
        logs.emit(
            "INFO",
            f"message {message.message_id} scored",
            irisserve={
                "event": "message_scored",
                "message_id": message.message_id,
                "result": decision.result,
            },
        )
    else:
        out = decision.outbound()
        _publisher.publish(topic, out.data, out.attributes, settings.publish_timeout_seconds)
    return Ack(message.message_id, "scored", topic or LOG)


def _dead_lettered(decision: messages.Poison, settings: Settings) -> Ack:
    message = decision.message
    _, code = error_status(decision.error)
    topic = settings.dead_letter_topic
    if topic is None:
        logs.emit(
            "ERROR",
            f"message {message.message_id} cannot be scored: {decision.reason}",
            irisserve={
                "event": "message_dead_lettered",
                "message_id": message.message_id,
                "error_code": code,
                "error": decision.reason,
                "subscription": message.subscription,
                "attributes": message.attributes,
            },
        )
    else:
        out = decision.outbound(code)
        _publisher.publish(topic, out.data, out.attributes, settings.publish_timeout_seconds)
    return Ack(message.message_id, "dead_lettered", topic or LOG)


def process(message: messages.Message, settings: Settings) -> Ack:
    """Score or dead-letter ``message`` and publish the outcome; raise when it must be retried."""
    decision = messages.decide(message, lambda: state.get_model(settings), settings)
    if isinstance(decision, messages.Scored):
        return _scored(decision, settings)
    return _dead_lettered(decision, settings)


def handle_push(ctx: Context, body: Any) -> flask.Response:
    """A push envelope: 200 once the outcome is published; an exception (503) to nack."""
    message = messages.decode_push(body)
    ctx.log["message_id"] = message.message_id
    ack = process(message, ctx.settings)
    ctx.log.update(ack.fields())
    return json_response(ack.fields())


def handle_cloud_event(event: CloudEvent) -> None:
    """An Eventarc ``messagePublished`` event: return to ack, raise to have it retried."""
    message = messages.decode_cloud_event(event.get_attributes(), event.get_data())
    try:
        ack = process(message, state.settings())
    except Exception as exc:
        logs.emit(
            "ERROR",
            f"event {message.message_id} not processed, to be retried: {exc}",
            irisserve={
                "message_id": message.message_id,
                "error_code": error_status(exc)[1],
                "error_type": type(exc).__name__,
            },
        )
        raise
    logs.emit("INFO", f"event {message.message_id} {ack.outcome}", irisserve=ack.fields())

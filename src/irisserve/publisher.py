"""Publish to Pub/Sub: one client per process, created on first use.

This module holds the publisher's global state (the loader holds the model's);
``reset()`` returns it to its cold state (for tests). ``google-cloud-pubsub`` is
imported only when the first message is published, never on the HTTP cold path.
The client honours ``PUBSUB_EMULATOR_HOST``.

Messages go through the publish RPC of the client's GAPIC base class, not the
batching ``publish()``: that one takes attributes as keyword arguments, so a
source attribute named ``topic``, ``data``, ``retry`` or ``timeout`` would
collide with its parameters and turn a valid message into one retried forever.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from irisserve.errors import PublishFailed

__all__ = ["publish", "reset"]

_lock = threading.Lock()
_client: Any = None


def _publisher() -> Any:
    global _client
    client = _client
    if client is not None:
        return client
    with _lock:
        if _client is None:
            from google.cloud import pubsub_v1  # deferred: gRPC costs a cold start

            _client = pubsub_v1.PublisherClient()
        return _client


def publish(topic: str, data: bytes, attributes: Mapping[str, str], timeout: float) -> str:
    """Publish one message to ``topic`` and return its id once the server has it.

    Waits at most ``timeout`` seconds, retries included; any failure is a
    ``PublishFailed`` (transient: the caller nacks, Pub/Sub redelivers).
    """
    from google.api_core.retry import Retry
    from google.pubsub_v1.services.publisher import PublisherClient as Rpc

    try:
        response = Rpc.publish(
            _publisher(),
            request={"topic": topic, "messages": [{"data": data, "attributes": dict(attributes)}]},
            retry=Retry(timeout=timeout),
            timeout=timeout,
        )
    except Exception as exc:  # every client or server failure: retry later
        raise PublishFailed(f"publishing to {topic} failed: {exc}") from exc
    return str(response.message_ids[0])


def reset() -> None:
    """Drop the client (its channel closes), as in a fresh process."""
    global _client
    with _lock:
        client, _client = _client, None
    if client is not None:
        client.transport.close()

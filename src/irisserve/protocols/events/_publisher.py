"""Publish to Pub/Sub with the process's one client (``irisserve.serving.state`` holds it).

``google-cloud-pubsub`` is imported only when the first message is published,
never on the HTTP cold path. The client honours ``PUBSUB_EMULATOR_HOST``.

Messages go through the publish RPC of the client's GAPIC base class, not the
batching ``publish()``: that one takes attributes as keyword arguments, so a
source attribute named ``topic``, ``data``, ``retry`` or ``timeout`` would
collide with its parameters and turn a valid message into one retried forever.
"""

from __future__ import annotations

from collections.abc import Mapping

from irisserve.errors import PublishFailed
from irisserve.serving import state

__all__ = ["publish"]


def publish(topic: str, data: bytes, attributes: Mapping[str, str], timeout: float) -> str:
    """Publish one message to ``topic`` and return its id once the server has it.

    Waits at most ``timeout`` seconds, retries included; any failure is a
    ``PublishFailed`` (transient: the caller nacks, Pub/Sub redelivers).
    """
    from google.api_core.retry import Retry
    from google.pubsub_v1.services.publisher import PublisherClient as Rpc

    try:
        response = Rpc.publish(
            state.publisher_client(),
            request={"topic": topic, "messages": [{"data": data, "attributes": dict(attributes)}]},
            retry=Retry(timeout=timeout),
            timeout=timeout,
        )
    except Exception as exc:  # every client or server failure: retry later
        raise PublishFailed(f"publishing to {topic} failed: {exc}") from exc
    return str(response.message_ids[0])

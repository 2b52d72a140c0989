"""What every handler receives and returns: the request context, routes, JSON responses."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import flask

from irisserve import jsoncodec
from irisserve.config import Settings
from irisserve.errors import MalformedJSON, PayloadTooLarge, UnsupportedMediaType

__all__ = ["Context", "Handler", "Route", "json_response"]


@dataclass
class Context:
    """One request on its way through: the request, its route's parameters, the settings
    (read when a handler first asks for them), and what to log."""

    request: flask.Request
    read_settings: Callable[[], Settings]
    params: Mapping[str, str] = field(default_factory=dict)
    log: dict[str, Any] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        """The process's settings; a bad ``IRISSERVE_*`` value raises ``ConfigurationError``.

        Liveness handlers never ask, so they answer even when the configuration is bad.
        """
        return self.read_settings()

    def read_body(self) -> bytes:
        """The raw body, refusing more than ``max_body_bytes`` before reading it all."""
        limit = self.settings.max_body_bytes
        declared = self.request.content_length
        if declared is not None and declared > limit:
            raise PayloadTooLarge(f"the body is {declared} bytes, over the limit of {limit}")
        try:
            data = self.request.stream.read(limit + 1)
        except Exception as exc:  # the server's body decoder: broken chunked framing, lost client
            raise MalformedJSON(
                f"the body could not be read ({exc}); check its chunked encoding"
            ) from None
        if len(data) > limit:
            raise PayloadTooLarge(f"the body is over the limit of {limit} bytes")
        if declared is not None and len(data) < declared:
            raise MalformedJSON(
                f"the body ended after {len(data)} of the {declared} bytes its Content-Length "
                "declared"
            )
        return data

    def read_json(self) -> Any:
        """The body as strict JSON; the request must say it is JSON."""
        mimetype = self.request.mimetype
        if mimetype != "application/json" and not mimetype.endswith("+json"):
            shown = self.request.content_type or "no Content-Type"
            raise UnsupportedMediaType(f"expected Content-Type: application/json, got {shown}")
        return jsoncodec.decode(self.read_body())


Handler = Callable[[Context], flask.Response]


@dataclass(frozen=True)
class Route:
    """A path (``<name>`` stands for one segment), its methods and the handler serving them."""

    path: str
    methods: tuple[str, ...]
    handler: Handler


def json_response(payload: Any, status: int = 200) -> flask.Response:
    """A JSON response with the right Content-Type."""
    return flask.Response(jsoncodec.encode(payload), status=status, mimetype="application/json")

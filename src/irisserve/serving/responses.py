"""JSON responses: the body from the one encoder, with the right Content-Type."""

from __future__ import annotations

from typing import Any

import flask

from irisserve import jsoncodec

__all__ = ["JSON", "json_response"]

#: The media type of every JSON answer.
JSON = "application/json"


def json_response(payload: Any, status: int = 200) -> flask.Response:
    """A JSON response with the right Content-Type."""
    return flask.Response(jsoncodec.encode(payload), status=status, content_type=JSON)

"""JSON responses: the body from the one encoder, with the right Content-Type."""

from __future__ import annotations

from typing import Any

import flask

from irisserve import jsoncodec

__all__ = ["JSON", "json_body_response", "json_response"]

#: The media type of every JSON answer.
JSON = "application/json"


def json_response(payload: Any, status: int = 200) -> flask.Response:
    """A JSON response with the right Content-Type."""
    return json_body_response(jsoncodec.encode(payload), status)


def json_body_response(body: bytes, status: int = 200) -> flask.Response:
    """A response of JSON already written (by ``irisserve.jsoncodec`` or from its pieces)."""
    return flask.Response(body, status=status, content_type=JSON)

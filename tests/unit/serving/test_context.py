"""irisserve.serving.context: the body read within its byte limit, and JSON only when declared."""

from __future__ import annotations

import io
from typing import Any

import flask
import pytest
from werkzeug.test import EnvironBuilder

from irisserve.config import Settings
from irisserve.errors import MalformedJSON, PayloadTooLarge, UnsupportedMediaType
from irisserve.serving.context import Context
from irisserve.serving.responses import json_response

LIMIT = 16


def context(body: bytes = b"", content_type: str | None = None, **environ: Any) -> Context:
    """A POST's context with ``body``, a limit of ``LIMIT`` bytes and any WSGI overrides."""
    headers = {} if content_type is None else {"Content-Type": content_type}
    env = EnvironBuilder(method="POST", data=body, headers=headers).get_environ()
    env.update(environ)
    return Context(flask.Request(env), lambda: Settings(max_body_bytes=LIMIT))


def test_a_body_within_the_limit_is_read_whole() -> None:
    assert context(b"x" * LIMIT).read_body() == b"x" * LIMIT


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    unread = io.BytesIO(b"x" * (LIMIT + 1))
    ctx = context(b"x" * (LIMIT + 1), **{"wsgi.input": unread})
    with pytest.raises(PayloadTooLarge, match=f"{LIMIT + 1} bytes, over the limit of {LIMIT}"):
        ctx.read_body()
    assert unread.tell() == 0


def test_an_undeclared_body_over_the_limit_is_refused_after_limit_plus_one_bytes() -> None:
    stream = io.BytesIO(b"x" * (LIMIT * 4))
    ctx = context(**{"wsgi.input": stream, "wsgi.input_terminated": True, "CONTENT_LENGTH": ""})
    with pytest.raises(PayloadTooLarge, match=f"over the limit of {LIMIT} bytes"):
        ctx.read_body()
    assert stream.tell() == LIMIT + 1


def test_a_body_shorter_than_its_content_length_is_malformed() -> None:
    ctx = context(
        **{"wsgi.input": io.BytesIO(b"abc"), "wsgi.input_terminated": True, "CONTENT_LENGTH": "10"}
    )
    with pytest.raises(MalformedJSON, match="ended after 3 of the 10 bytes"):
        ctx.read_body()


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/vnd.api+json"],
)
def test_json_media_types_are_decoded(content_type: str) -> None:
    assert context(b'{"a": [1, 2.5]}', content_type).read_json() == {"a": [1, 2.5]}


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_other_media_types_are_refused_naming_what_came(content_type: str | None) -> None:
    shown = content_type or "no Content-Type"
    with pytest.raises(UnsupportedMediaType, match=f"got {shown}"):
        context(b'{"a": 1}', content_type).read_json()


def test_json_is_strict() -> None:
    with pytest.raises(MalformedJSON):
        context(b'{"a": NaN}', "application/json").read_json()


def test_json_response_sets_status_and_media_type() -> None:
    response = json_response({"ok": True}, status=201)
    assert response.status_code == 201
    assert response.mimetype == "application/json"
    assert response.get_json() == {"ok": True}

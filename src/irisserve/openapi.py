"""The OpenAPI 3 contract of every route, served at ``GET /openapi.json``.

The document is a static file shipped in the package (``openapi.json``), read on
the first request that asks for it; ``tests/test_openapi.py`` keeps it in step
with ``irisserve.http.ROUTES``.
"""

from __future__ import annotations

import functools
from pathlib import Path

import flask

from irisserve.context import Context, Route

__all__ = ["DOCUMENT_PATH", "ROUTES", "document_bytes"]

DOCUMENT_PATH = Path(__file__).with_name("openapi.json")


@functools.cache
def document_bytes() -> bytes:
    """The document as shipped, read once per process."""
    return DOCUMENT_PATH.read_bytes()


def _openapi(ctx: Context) -> flask.Response:
    return flask.Response(document_bytes(), mimetype="application/json")


ROUTES: tuple[Route, ...] = (Route("/openapi.json", ("GET",), _openapi),)

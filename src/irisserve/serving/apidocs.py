"""The interactive API page: Swagger UI over ``GET /openapi.json``, at ``GET /docs``.

Swagger UI's files come from the ``flask-swagger-ui`` package's ``dist`` folder (its
Flask blueprint is not used), so the page needs no CDN. Nothing is imported or read
until the first request for the page or one of its files: a cold start does not pay
for it. Every answer carries an ETag and a 304 answers a matching ``If-None-Match``.
``IRISSERVE_DOCS=0`` turns the page and its files off (404).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
from pathlib import Path

import flask

from irisserve.errors import ConfigurationError, NotFound
from irisserve.serving.context import Context
from irisserve.serving.routing import Route

__all__ = ["ASSETS", "ROUTES", "page", "swagger_ui_dir"]

#: The files of Swagger UI the page loads, with their Content-Type.
ASSETS: dict[str, str] = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}

#: The page is checked on every visit (a 304 when unchanged); its files are named with
#: Swagger UI's version (``?v=``), so a browser keeps them until that changes.
_PAGE_CACHE = "no-cache"
_ASSET_CACHE = "public, max-age=31536000, immutable"

# Relative URLs, and requests sent under the page's own path prefix: the page works
# behind a gateway that serves the function under a path (e.g. /fn/docs).
_PAGE = r"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>irisserve API</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="icon" type="image/png" href="docs/favicon-32x32.png?v={v}">
  <link rel="stylesheet" href="docs/swagger-ui.css?v={v}">
  <style>body {{ margin: 0; background: #fafafa; }}</style>
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js?v={v}"></script>
  <script>
    // Behind a path prefix (a gateway serving this page at /fn/docs), "Try it out"
    // sends its requests under the same prefix.
    var prefix = location.pathname.replace(/\/docs$/, "");
    window.ui = SwaggerUIBundle({{
      url: "openapi.json",
      dom_id: "#swagger-ui",
      layout: "BaseLayout",
      deepLinking: true,
      displayRequestDuration: true,
      validatorUrl: null,
      requestInterceptor: function (request) {{
        var url = new URL(request.url, location.href);
        if (prefix && !request.loadSpec && url.origin === location.origin) {{
          url.pathname = prefix + url.pathname;
          request.url = url.href;
        }}
        return request;
      }}
    }});
  </script>
</body>
</html>
"""


@functools.cache
def swagger_ui_dir() -> Path:
    """The folder of Swagger UI's files, found without importing the package."""
    spec = importlib.util.find_spec("flask_swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError("GET /docs needs the flask-swagger-ui package; install it")
    return Path(next(iter(spec.submodule_search_locations))) / "dist"


@functools.cache
def page() -> bytes:
    """The HTML page, naming the files with the installed Swagger UI's version."""
    version = (swagger_ui_dir() / "VERSION").read_text().strip().lstrip("v")
    return _PAGE.format(v=version).encode()


@functools.cache
def _asset(name: str) -> bytes:
    return (swagger_ui_dir() / name).read_bytes()


@functools.cache
def _etag(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


def _require_docs(ctx: Context) -> None:
    """Answer as for a path that does not exist when ``IRISSERVE_DOCS=0``."""
    if not ctx.settings.docs:
        raise NotFound(f"no route for {ctx.request.path}; see GET /openapi.json")


def _cached(ctx: Context, data: bytes, content_type: str, cache_control: str) -> flask.Response:
    """``data`` with its ETag, or a bodiless 304 when ``If-None-Match`` holds that ETag."""
    response = flask.Response(data, content_type=content_type)
    response.headers["Cache-Control"] = cache_control
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.set_etag(_etag(data))
    response.make_conditional(ctx.request)  # in place: a 304 drops the body
    return response


def _page(ctx: Context) -> flask.Response:
    _require_docs(ctx)
    return _cached(ctx, page(), "text/html; charset=utf-8", _PAGE_CACHE)


def _file(ctx: Context) -> flask.Response:
    _require_docs(ctx)
    name = ctx.params["name"]
    if name not in ASSETS:
        raise NotFound(f"the API page has no file {name!r}; it has {', '.join(ASSETS)}")
    return _cached(ctx, _asset(name), ASSETS[name], _ASSET_CACHE)


ROUTES: tuple[Route, ...] = (
    Route("/docs", ("GET",), _page),
    Route("/docs/<name>", ("GET",), _file),
)

"""WSGI handling: route a request to its handler, turn every exception into a JSON error, log.

Every exception becomes a JSON error here, with the status and code of
``irisserve.serving.errortable``'s table, and every request logs one line. Entry points in
``functions/predict/main.py`` hand their request to :func:`handle`. The native routes are
imported with this module; the others on their first request (``DEFERRED_ROUTES``).
"""

from __future__ import annotations

import time
import traceback

import flask

from irisserve import config, jsoncodec
from irisserve.config import Settings
from irisserve.errors import ConfigurationError, MethodNotAllowed, ModelUnavailable
from irisserve.protocols import native
from irisserve.serving import logs, state
from irisserve.serving.context import Context
from irisserve.serving.errortable import INTERNAL, error_status
from irisserve.serving.routing import Router

__all__ = ["DEFERRED_ROUTES", "handle", "warm_up"]

#: Path prefix → the module whose ``ROUTES`` serve the paths under it, imported on the
#: first request there: a cold start that serves predictions never imports the KServe
#: protocols, the explanations, the OpenAPI document or the API page.
DEFERRED_ROUTES: dict[str, str] = {
    "/v1/": "irisserve.protocols.v1",
    "/v2": "irisserve.protocols.v2.routes",
    "/explain": "irisserve.protocols.explain",
    "/openapi.json": "irisserve.serving.openapi",
    "/docs": "irisserve.serving.apidocs",
}

_router = Router(native.ROUTES, DEFERRED_ROUTES)


def _retry_after() -> int:
    """The ``Retry-After`` of a 503 (the settings were read before anything answers 503)."""
    try:
        return state.settings().retry_after_seconds
    except ConfigurationError:
        return Settings().retry_after_seconds


def _trace_project() -> str | None:
    """The project of the log line's trace, read with the settings (once per process)."""
    try:
        return state.settings().project
    except ConfigurationError:  # the line still names it
        return config.project()


def _error_response(exc: BaseException) -> flask.Response:
    status, code = error_status(exc)
    message = (
        "internal error; the request's log line holds the details"
        if (status, code) == INTERNAL
        else str(exc)
    )
    body = jsoncodec.encode({"error": message, "code": code})
    # Streamed (with its length), so functions-framework does not read a body nobody will
    # use: an oversized body, or one whose Content-Length lies, is answered at once.
    response = flask.Response(iter([body]), status=status, mimetype="application/json")
    response.headers["Content-Length"] = str(len(body))
    if isinstance(exc, MethodNotAllowed):
        response.headers["Allow"] = ", ".join(exc.allowed)
    if status == 503:
        response.headers["Retry-After"] = str(_retry_after())
    return response


def handle(request: flask.Request) -> flask.Response:
    """Serve one HTTP request; never raises."""
    started = time.perf_counter()
    ctx = Context(request, state.settings, log={"cold": state.begin_request()})
    try:
        match = _router.resolve(request.path, request.method)
        ctx.params = match.params
        response = match.handler(ctx)
    except Exception as exc:
        response = _error_response(exc)
        status, code = error_status(exc)
        ctx.log.update(error_code=code, error_type=type(exc).__name__, error=str(exc))
        if status == 500:
            ctx.log["traceback"] = traceback.format_exc()
    _log_request(ctx, response, started)
    return response


def _log_request(ctx: Context, response: flask.Response, started: float) -> None:
    request, status, extra = ctx.request, response.status_code, ctx.log
    environ = request.environ  # headers by their WSGI names: werkzeug's mapping is not built
    model = state.loaded_model()
    load_seconds = state.load_seconds_this_request()
    if load_seconds is not None:
        extra["load_seconds"] = round(load_seconds, 6)
    logs.emit(
        "ERROR" if status >= 500 else "WARNING" if status >= 400 else "INFO",
        f"{request.method} {request.path} {status}",
        httpRequest=logs.http_request_fields(
            method=request.method,
            path=request.path,
            status=status,
            latency_seconds=time.perf_counter() - started,
            request_size=ctx.content_length,
            response_size=response.content_length or 0,
            user_agent=environ.get("HTTP_USER_AGENT") or None,
            remote_ip=request.remote_addr,
        ),
        irisserve={
            "model_version": model.version if model is not None else None,
            "model_loads": state.load_stats().loads,
            **extra,
        },
        **logs.trace_fields(
            environ.get("HTTP_TRACEPARENT"),
            environ.get("HTTP_X_CLOUD_TRACE_CONTEXT"),
            _trace_project(),
        ),
    )


def warm_up() -> None:
    """Load the model now when ``IRISSERVE_EAGER_LOAD`` is set (long-running containers).

    A failure is logged, not raised: the process still starts, and the next
    request tries the load again.
    """
    try:
        settings = state.settings()
        if settings.eager_load:
            state.get_model(settings)
            logs.emit(
                "INFO", "model loaded eagerly", irisserve={"event": "eager_load", "model_loads": 1}
            )
    except (ModelUnavailable, ConfigurationError) as exc:
        logs.emit(
            "ERROR",
            f"eager model load failed: {exc}",
            irisserve={"event": "eager_load", "error_type": type(exc).__name__},
        )

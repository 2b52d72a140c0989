"""The HTTP layer: route a request, decode it, call the model, encode the answer.

Every exception becomes a JSON error here, with the status and code of
``irisserve.errormap``'s table. Entry points in
``functions/predict/main.py`` hand their request to :func:`handle`.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import asdict

import flask

from irisserve import config, jsoncodec, loader, logs
from irisserve.config import Settings
from irisserve.context import Context, Route, json_response
from irisserve.errormap import INTERNAL, error_status
from irisserve.errors import ConfigurationError, MethodNotAllowed, ModelUnavailable
from irisserve.protocol import encode_predictions
from irisserve.routing import Router
from irisserve.schema import parse_body
from irisserve.scoring import score

__all__ = ["DEFERRED_ROUTES", "ROUTES", "handle", "warm_up"]

SERVICE = "irisserve"


def _health(ctx: Context) -> flask.Response:
    model = loader.loaded_model()
    return json_response(
        {
            "status": "healthy",
            "service": SERVICE,
            "model_loaded": model is not None,
            "model_version": model.version if model is not None else None,
        }
    )


def _model_info(ctx: Context) -> flask.Response:
    model = loader.get_model(ctx.settings)
    manifest = model.manifest
    return json_response(
        {
            "model_name": manifest.model_name,
            "model_type": manifest.model_type,
            "model_version": manifest.model_version,
            "input_features": len(manifest.feature_names),
            "output_classes": len(manifest.class_names),
            "feature_names": manifest.feature_names,
            "class_names": manifest.class_names,
            "input_schema": [asdict(feature) for feature in model.features],
            "task": asdict(model.task),
            "backend": model.backend,
            "created_at": manifest.created_at,
            "artifact_sha256": manifest.files,
            "libraries": manifest.libraries,
            "platform": manifest.platform,
            "training_data": manifest.training_data,
            "hyperparameters": manifest.hyperparameters,
            "random_seed": manifest.random_seed,
            "metrics": manifest.metrics,
        }
    )


def _predict(ctx: Context) -> flask.Response:
    body = ctx.read_json()
    if isinstance(body, dict) and "message" in body:  # a Pub/Sub push envelope
        from irisserve import delivery  # deferred: off the cold path of a direct request

        return delivery.handle_push(ctx, body)
    model = loader.get_model(ctx.settings)
    rows = parse_body(body, model.schema, ctx.settings.max_batch_rows)
    scored = score(model, rows.data, ctx.settings)
    ctx.log.update(scored.log_fields())
    return json_response(
        encode_predictions(model, scored.predictions, rows.single, scored.drift.warnings)
    )


def _root(ctx: Context) -> flask.Response:
    return _predict(ctx) if ctx.request.method == "POST" else _health(ctx)


ROUTES: tuple[Route, ...] = (
    Route("/", ("GET", "POST"), _root),
    Route("/predict", ("POST",), _predict),
    Route("/model-info", ("GET",), _model_info),
)

#: Path prefix → the module whose ``ROUTES`` serve the paths under it, imported on the
#: first request there: a cold start that serves predictions never imports the KServe
#: protocols, the OpenAPI document or the API page.
DEFERRED_ROUTES: dict[str, str] = {
    "/v1/": "irisserve.oip",
    "/v2": "irisserve.oip",
    "/openapi.json": "irisserve.openapi",
    "/docs": "irisserve.apidocs",
}

_router = Router(ROUTES, DEFERRED_ROUTES)


def _retry_after() -> int:
    """The ``Retry-After`` of a 503 (the settings were read before anything answers 503)."""
    try:
        return loader.settings().retry_after_seconds
    except ConfigurationError:
        return Settings().retry_after_seconds


def _trace_project() -> str | None:
    """The project of the log line's trace, read with the settings (once per process)."""
    try:
        return loader.settings().project
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
    ctx = Context(request, loader.settings, log={"cold": loader.begin_request()})
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
    model = loader.loaded_model()
    load_seconds = loader.load_seconds_this_request()
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
            "model_loads": loader.load_stats().loads,
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
        settings = loader.settings()
        if settings.eager_load:
            loader.get_model(settings)
            logs.emit(
                "INFO", "model loaded eagerly", irisserve={"event": "eager_load", "model_loads": 1}
            )
    except (ModelUnavailable, ConfigurationError) as exc:
        logs.emit(
            "ERROR",
            f"eager model load failed: {exc}",
            irisserve={"event": "eager_load", "error_type": type(exc).__name__},
        )

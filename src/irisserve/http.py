"""The HTTP layer: route a request, decode it, call the model, encode the answer.

Every exception becomes a JSON error here, through one table that maps
exception types to statuses (most specific first). Entry points in
``functions/predict/main.py`` hand their request to :func:`handle`.
"""

from __future__ import annotations

import time
import traceback
from typing import Any

import flask

from irisserve import jsoncodec, loader, logs, oip, openapi
from irisserve.config import Settings
from irisserve.context import Context, Route, json_response
from irisserve.errors import (
    ArtifactIntegrityError,
    ArtifactMissing,
    BatchTooLarge,
    ConfigurationError,
    IncompatibleArtifact,
    InvalidInput,
    MalformedEnvelope,
    MalformedJSON,
    MethodNotAllowed,
    ModelLoadTimeout,
    ModelUnavailable,
    NotBase64,
    NotFound,
    PayloadTooLarge,
    PublishFailed,
    StorageForbidden,
    StorageUnavailable,
    UnsupportedMediaType,
    UntrustedArtifact,
)
from irisserve.protocol import encode_predictions
from irisserve.routing import Router
from irisserve.schema import parse_body
from irisserve.scoring import score

__all__ = ["ERROR_TABLE", "ROUTES", "error_status", "handle", "warm_up"]

SERVICE = "irisserve"

#: Exception type → (HTTP status, error code). The first matching row wins.
ERROR_TABLE: tuple[tuple[type[BaseException], int, str], ...] = (
    (MalformedJSON, 400, "malformed_json"),
    (BatchTooLarge, 413, "batch_too_large"),
    (MalformedEnvelope, 400, "malformed_envelope"),
    (NotBase64, 400, "not_base64"),
    (InvalidInput, 400, "invalid_input"),
    (PayloadTooLarge, 413, "payload_too_large"),
    (UnsupportedMediaType, 415, "unsupported_media_type"),
    (NotFound, 404, "not_found"),
    (MethodNotAllowed, 405, "method_not_allowed"),
    (ModelLoadTimeout, 503, "model_loading"),
    (StorageUnavailable, 503, "model_loading"),
    (StorageForbidden, 503, "artifact_forbidden"),
    (ArtifactMissing, 503, "artifact_missing"),
    (UntrustedArtifact, 503, "artifact_untrusted"),
    (ArtifactIntegrityError, 503, "artifact_corrupt"),
    (IncompatibleArtifact, 503, "artifact_incompatible"),
    (ModelUnavailable, 503, "model_unavailable"),
    (PublishFailed, 503, "publish_failed"),
    (ConfigurationError, 500, "misconfigured"),
)


def error_status(exc: BaseException) -> tuple[int, str]:
    """The status and code for an exception; anything unknown is a bug (500)."""
    for kind, status, code in ERROR_TABLE:
        if isinstance(exc, kind):
            return status, code
    return 500, "internal"


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
        from irisserve import delivery  # deferred: delivery imports this module

        return delivery.handle_push(ctx, body)
    model = loader.get_model(ctx.settings)
    rows = parse_body(body, model.feature_names, ctx.settings.max_batch_rows)
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
    *openapi.ROUTES,
    *oip.ROUTES,
)


_router = Router(ROUTES)


def _error_response(exc: BaseException, settings: Settings | None) -> flask.Response:
    status, code = error_status(exc)
    message = (
        "internal error; the request's log line holds the details"
        if code == "internal"
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
        retry = (settings or Settings()).retry_after_seconds
        response.headers["Retry-After"] = str(retry)
    return response


def handle(request: flask.Request) -> flask.Response:
    """Serve one HTTP request; never raises."""
    started = time.perf_counter()
    extra: dict[str, Any] = {"cold": loader.begin_request()}
    settings: Settings | None = None
    try:
        settings = loader.settings()
        ctx = Context(request=request, settings=settings, log=extra)
        response = _router.resolve(request.path, request.method)(ctx)
    except Exception as exc:
        response = _error_response(exc, settings)
        status, code = error_status(exc)
        extra.update(error_code=code, error_type=type(exc).__name__, error=str(exc))
        if status == 500:
            extra["traceback"] = traceback.format_exc()
    _log_request(request, response, started, extra)
    return response


def _log_request(
    request: flask.Request, response: flask.Response, started: float, extra: dict[str, Any]
) -> None:
    status = response.status_code
    model = loader.loaded_model()
    stats = loader.load_stats()
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
            request_size=request.content_length,
            response_size=response.content_length or 0,
            user_agent=request.headers.get("User-Agent") or None,
            remote_ip=request.remote_addr,
        ),
        irisserve={
            "model_version": model.version if model is not None else None,
            "model_loads": stats.loads,
            **extra,
        },
        **logs.trace_fields(
            request.headers.get("traceparent"), request.headers.get("X-Cloud-Trace-Context")
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

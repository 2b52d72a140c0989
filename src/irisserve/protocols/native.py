"""The native routes: health (``GET /``), ``POST /predict`` (and ``POST /``), ``GET /model-info``.

Bodies are ``{"features": ...}`` or ``{"instances": [...]}``; answers are the prediction
objects of ``irisserve.protocols.predictions``. A Pub/Sub push envelope posted here is
handed to ``irisserve.protocols.events.delivery``.
"""

from __future__ import annotations

from dataclasses import asdict

import flask

from irisserve.protocols.predictions_json import predictions_body
from irisserve.protocols.scored import score
from irisserve.schema import parse_body
from irisserve.serving import state
from irisserve.serving.context import Context
from irisserve.serving.responses import json_body_response, json_response
from irisserve.serving.routing import Route

__all__ = ["ROUTES", "SERVICE"]

SERVICE = "irisserve"


def _health(ctx: Context) -> flask.Response:
    model = state.loaded_model()
    return json_response(
        {
            "status": "healthy",
            "service": SERVICE,
            "model_loaded": model is not None,
            "model_version": model.version if model is not None else None,
        }
    )


def _model_info(ctx: Context) -> flask.Response:
    model = state.get_model(ctx.settings)
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
        from irisserve.protocols.events import delivery

        return delivery.handle_push(ctx, body)
    model = state.get_model(ctx.settings)
    rows = parse_body(body, model.schema, ctx.settings.max_batch_rows)
    scored = score(model, rows.data, ctx.settings)
    ctx.log.update(scored.log_fields())
    return json_body_response(
        predictions_body(model, scored.predictions, rows.single, scored.drift.warnings)
    )


def _root(ctx: Context) -> flask.Response:
    return _predict(ctx) if ctx.request.method == "POST" else _health(ctx)


ROUTES: tuple[Route, ...] = (
    Route("/", ("GET", "POST"), _root),
    Route("/predict", ("POST",), _predict),
    Route("/model-info", ("GET",), _model_info),
)

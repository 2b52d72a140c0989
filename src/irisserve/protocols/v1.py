"""KServe V1 / Vertex AI routes: ``{"instances": [...]}`` in, ``{"predictions": [...]}`` out.

The same validation and prediction objects as ``POST /predict``; ``GET /v1/models/<name>``
answers the model's readiness.
"""

from __future__ import annotations

from typing import Any

import flask

from irisserve.errors import InvalidInput
from irisserve.protocols._served import model_ready, path_model
from irisserve.protocols.predictions import prediction_objects
from irisserve.protocols.scored import score
from irisserve.schema import parse_instances
from irisserve.serving.context import Context
from irisserve.serving.responses import json_response
from irisserve.serving.routing import Route

__all__ = ["ROUTES"]

_V1_KEYS = ("instances", "parameters")


def _v1_instances(body: Any) -> Any:
    if not isinstance(body, dict) or "instances" not in body:
        raise InvalidInput('the body must be a JSON object with "instances": [row, ...]')
    extra = sorted(key for key in body if key not in _V1_KEYS)
    if extra:
        raise InvalidInput(f'unknown key {extra[0]!r}: the body takes "instances" and "parameters"')
    return body["instances"]


def _v1_predict(ctx: Context) -> flask.Response:
    body = ctx.read_json()
    model = path_model(ctx)
    rows = parse_instances(_v1_instances(body), model.schema, ctx.settings.max_batch_rows)
    scored = score(model, rows, ctx.settings)
    ctx.log.update(scored.log_fields())
    objects = prediction_objects(model, scored.predictions, scored.drift.warnings)
    return json_response({"predictions": objects})


ROUTES: tuple[Route, ...] = (
    Route("/v1/models/<name>:predict", ("POST",), _v1_predict),
    Route("/v1/models/<name>", ("GET",), model_ready),
)

"""KServe V1 / Vertex AI routes: ``{"instances": [...]}`` in, ``{"predictions": [...]}`` out.

The same validation and prediction objects as ``POST /predict``; ``GET /v1/models/<name>``
answers the model's readiness; ``:explain`` is ``irisserve.protocols.explain``'s.
"""

from __future__ import annotations

import flask

from irisserve.protocols._served import model_ready, path_model, v1_instances
from irisserve.protocols.predictions_json import objects_json
from irisserve.protocols.scored import score
from irisserve.schema import parse_instances
from irisserve.serving.context import Context
from irisserve.serving.responses import json_body_response
from irisserve.serving.routing import Route

__all__ = ["ROUTES"]


def _v1_predict(ctx: Context) -> flask.Response:
    body = ctx.read_json()
    model = path_model(ctx)
    rows = parse_instances(v1_instances(body), model.schema, ctx.settings.max_batch_rows)
    scored = score(model, rows, ctx.settings)
    ctx.log.update(scored.log_fields())
    objects = objects_json(model, scored.predictions, scored.drift.warnings)
    return json_body_response(b'{"predictions":' + objects + b"}")


def _v1_explain(ctx: Context) -> flask.Response:
    from irisserve.protocols.explain import v1_explain  # explanations only

    return v1_explain(ctx)


ROUTES: tuple[Route, ...] = (
    Route("/v1/models/<name>:predict", ("POST",), _v1_predict),
    Route("/v1/models/<name>:explain", ("POST",), _v1_explain),
    Route("/v1/models/<name>", ("GET",), model_ready),
)

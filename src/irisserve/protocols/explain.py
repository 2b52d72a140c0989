"""The explain routes: ``POST /explain`` (native) and ``POST /v1/models/<name>:explain``.

Bodies are read, validated and scored exactly as the predict routes do (the same refusals,
with the same messages and statuses); each row then gets its attributions from
``irisserve.explain``, built on the model's first explain request. Answers:

- native: ``{"explanations": [{"outputs", "space", "baseline", "attributions":
  {feature: [one per output]}, "prediction"}, ...], "model_version"}``
- KServe V1: ``{"predictions": [prediction objects], "explanations": [as native]}``
- Vertex AI (``"parameters": {"format": "vertex"}``): ``{"explanations": [{"attributions":
  [{"outputIndex", "outputDisplayName", "baselineOutputValue", "instanceOutputValue",
  "featureAttributions"}, ...]}, ...]}``
"""

from __future__ import annotations

from typing import Any

import flask

from irisserve.artifact.model import Model
from irisserve.errors import InvalidInput
from irisserve.protocols._served import path_model, v1_instances
from irisserve.protocols.predictions import prediction_objects
from irisserve.protocols.scored import Scored, score
from irisserve.schema import parse_body, parse_instances
from irisserve.serving import state
from irisserve.serving.context import Context
from irisserve.serving.responses import json_response
from irisserve.serving.routing import Route

__all__ = ["ROUTES", "explanation_objects", "v1_explain"]

_FORMATS = ("kserve", "vertex")


def explanation_objects(model: Model, rows: Any, objects: list[dict[str, Any]]) -> list[Any]:
    """One native explanation per row, beside the rows' prediction objects."""
    from irisserve.explain.explainer import explainer_for

    found = explainer_for(model).explain(rows)
    names = model.feature_names
    # (inputs, outputs, rows) → per row, per feature: one value per output
    by_row = found.attributions.transpose(2, 0, 1).tolist()
    return [
        {
            "outputs": found.outputs,
            "space": found.space,
            "baseline": found.baseline,
            "attributions": dict(zip(names, row, strict=True)),
            "prediction": predicted["prediction"],
        }
        for row, predicted in zip(by_row, objects, strict=True)
    ]


def _scored(ctx: Context, model: Model, rows: Any) -> tuple[Scored, list[dict[str, Any]]]:
    scored = score(model, rows, ctx.settings)  # refuses what predicting refuses
    ctx.log.update(scored.log_fields())
    return scored, prediction_objects(model, scored.predictions, scored.drift.warnings)


def _explain(ctx: Context) -> flask.Response:
    body = ctx.read_json()
    model = state.get_model(ctx.settings)
    rows = parse_body(body, model.schema, ctx.settings.max_batch_rows)
    _, objects = _scored(ctx, model, rows.data)
    explanations = explanation_objects(model, rows.data, objects)
    return json_response({"explanations": explanations, "model_version": model.version})


def _format(body: dict[str, Any]) -> str:
    parameters = body.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise InvalidInput('"parameters" must be an object')
    chosen = parameters.get("format", "kserve")
    if chosen not in _FORMATS:
        raise InvalidInput(f'parameters.format must be "kserve" or "vertex", got {chosen!r}')
    return str(chosen)


def _vertex(explanation: dict[str, Any]) -> dict[str, Any]:
    """One row's explanation in Vertex AI's ``Explanation`` shape."""
    attributions = []
    for index, (name, baseline) in enumerate(
        zip(explanation["outputs"], explanation["baseline"], strict=True)
    ):
        by_feature = {f: values[index] for f, values in explanation["attributions"].items()}
        instance = baseline
        for value in by_feature.values():
            instance += value
        attributions.append(
            {
                "outputIndex": [index],
                "outputDisplayName": name,
                "baselineOutputValue": baseline,
                "instanceOutputValue": instance,
                "featureAttributions": by_feature,
            }
        )
    return {"attributions": attributions}


def v1_explain(ctx: Context) -> flask.Response:
    """``POST /v1/models/<name>:explain``: KServe's V1 answer, or Vertex AI's."""
    body = ctx.read_json()
    model = path_model(ctx)
    rows = parse_instances(v1_instances(body), model.schema, ctx.settings.max_batch_rows)
    chosen = _format(body)
    _, objects = _scored(ctx, model, rows)
    explanations = explanation_objects(model, rows, objects)
    if chosen == "vertex":
        return json_response({"explanations": [_vertex(e) for e in explanations]})
    return json_response({"predictions": objects, "explanations": explanations})


ROUTES: tuple[Route, ...] = (Route("/explain", ("POST",), _explain),)

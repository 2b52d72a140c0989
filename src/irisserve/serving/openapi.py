"""The OpenAPI 3 contract of every route, served at ``GET /openapi.json``.

The document is a static file shipped in the package (``openapi.json``), read once;
``tests/unit/serving/test_openapi.py`` keeps it in step with
``irisserve.protocols.native.ROUTES`` and the modules of
``irisserve.serving.wsgi.DEFERRED_ROUTES``. It is served
with the loaded model's rows and predictions in it (:func:`describe`): each feature's
type, categories and nullability, and the prediction object of its task. When no model
can be loaded, the document is served as shipped.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import flask

from irisserve import jsoncodec
from irisserve.artifact.manifest import NUMERIC, REGRESSION, TEXT, Feature
from irisserve.artifact.model import Model
from irisserve.errors import ModelUnavailable
from irisserve.serving import state
from irisserve.serving.context import Context
from irisserve.serving.routing import Route

__all__ = ["DOCUMENT_PATH", "ROUTES", "describe", "document_bytes"]

DOCUMENT_PATH = Path(__file__).with_name("openapi.json")


@functools.cache
def document_bytes() -> bytes:
    """The document as shipped, read once per process."""
    return DOCUMENT_PATH.read_bytes()


def _value(feature: Feature) -> dict[str, Any]:
    """The JSON Schema of one feature's value."""
    if feature.type == NUMERIC:
        schema: dict[str, Any] = {"type": "number", "description": "A finite number."}
    elif feature.type == TEXT:
        schema = {"type": "string", "description": "A text, scored whatever its words."}
    elif feature.unknown == "ignore":
        schema = {
            "type": "string"
            if all(isinstance(c, str) for c in feature.categories or [])
            else "number",
            "examples": feature.categories,
            "description": "A category; one not seen in training is scored with a drift warning.",
        }
    else:
        schema = {
            "enum": list(feature.categories or []),
            "description": "A category seen in training.",
        }
    if feature.nullable:
        return {"anyOf": [schema, {"type": "null"}], "description": "Missing values are imputed."}
    return schema


def _prediction(model: Model) -> dict[str, Any]:
    """The prediction object of the model's task."""
    warnings = {"type": "array", "items": {"$ref": "#/components/schemas/DriftWarning"}}
    if model.task.type == REGRESSION:
        properties: dict[str, Any] = {
            "prediction": {"type": "number", "description": model.task.output}
        }
        return {
            "type": "object",
            "required": ["prediction"],
            "properties": {**properties, "warnings": warnings},
        }
    properties = {
        "prediction": {
            "enum": list(model.task.classes or []),
            "description": "The class, as predict answers it.",
        },
        "prediction_label": {"enum": list(model.class_names), "description": "The class name."},
    }
    if model.task.scores == "predict_proba":
        names = {name: {"type": "number", "minimum": 0, "maximum": 1} for name in model.class_names}
        properties["confidence"] = {"type": "number", "minimum": 0, "maximum": 1}
        properties["probabilities"] = {
            "type": "object",
            "properties": names,
            "required": list(names),
        }
    elif model.task.scores == "decision_function":
        properties["decision_function"] = {
            "type": "array",
            "items": {"type": "number"},
            "description": "decision_function: one score per class (a binary model: one).",
        }
    return {
        "type": "object",
        "required": list(properties),
        "properties": {**properties, "warnings": warnings},
    }


def describe(document: dict[str, Any], model: Model) -> dict[str, Any]:
    """``document`` with the model's rows (``RowList``, ``RowObject``) and ``Prediction``."""
    schemas = document["components"]["schemas"]
    values = [_value(feature) for feature in model.features]
    names = model.feature_names
    schemas["RowList"] = {
        "type": "array",
        "description": f"The {len(names)} feature values in order: {', '.join(names)}.",
        "prefixItems": values,
        "items": False,
        "minItems": len(names),
        "maxItems": len(names),
    }
    schemas["RowObject"] = {
        "type": "object",
        "description": "Feature values keyed by feature name.",
        "properties": dict(zip(names, values, strict=True)),
        "required": list(names),
        "additionalProperties": False,
    }
    schemas["Prediction"] = _prediction(model)
    return document


def _openapi(ctx: Context) -> flask.Response:
    try:
        model = state.get_model(ctx.settings)
    except ModelUnavailable:
        return flask.Response(document_bytes(), mimetype="application/json")
    document = describe(json.loads(document_bytes()), model)
    return flask.Response(jsoncodec.encode(document), mimetype="application/json")


ROUTES: tuple[Route, ...] = (Route("/openapi.json", ("GET",), _openapi),)

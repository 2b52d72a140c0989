"""What the KServe routes share: the model a path names, its readiness, a V1 body's rows."""

from __future__ import annotations

from typing import Any

import flask

from irisserve.artifact.model import Model
from irisserve.errors import InvalidInput, NotFound
from irisserve.serving import state
from irisserve.serving.context import Context
from irisserve.serving.responses import json_response

__all__ = ["check_serves", "model_ready", "path_model", "v1_instances"]

_V1_KEYS = ("instances", "parameters")


def v1_instances(body: Any) -> Any:
    """The ``instances`` of a V1 body (``InvalidInput`` for any other shape)."""
    if not isinstance(body, dict) or "instances" not in body:
        raise InvalidInput('the body must be a JSON object with "instances": [row, ...]')
    extra = sorted(key for key in body if key not in _V1_KEYS)
    if extra:
        raise InvalidInput(f'unknown key {extra[0]!r}: the body takes "instances" and "parameters"')
    return body["instances"]


def check_serves(model: Model, name: str | None, version: str | None, source: str) -> None:
    """``NotFound`` unless ``name`` (and ``version``), where given, are the loaded model's."""
    served = model.manifest.model_name
    if name is not None and name != served:
        raise NotFound(f"{source}no model named {name!r}; this server serves {served!r}")
    if version is not None and version != model.version:
        raise NotFound(
            f"{source}model {served!r} has no version {version!r}; it has {model.version!r}"
        )


def path_model(ctx: Context) -> Model:
    """The loaded model, if the path names it (and its version); otherwise ``NotFound``."""
    name, version = ctx.params["name"], ctx.params.get("version")
    model = state.get_model(ctx.settings)
    check_serves(model, name, version, "")
    return model


def model_ready(ctx: Context) -> flask.Response:
    return json_response({"name": path_model(ctx).manifest.model_name, "ready": True})

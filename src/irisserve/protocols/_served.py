"""What the KServe routes share: the model a path names, and its readiness answer."""

from __future__ import annotations

import flask

from irisserve.artifact.model import Model
from irisserve.errors import NotFound
from irisserve.serving import state
from irisserve.serving.context import Context
from irisserve.serving.responses import json_response

__all__ = ["check_serves", "model_ready", "path_model"]


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

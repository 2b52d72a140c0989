"""Open Inference Protocol (KServe V2) and KServe V1 / Vertex AI routes.

V2: health, server and model metadata, model readiness and inference, with the
binary tensor data extension (``irisserve.oip_codec``). The infer routes read the
body whatever its Content-Type (``tritonclient`` sends none), within the body
limit. V1: ``{"instances": [...]}`` in, ``{"predictions": [...]}`` out, through
the same validation and prediction objects as ``POST /predict``.
"""

from __future__ import annotations

from typing import Any

import flask

from irisserve import __version__, jsoncodec, loader
from irisserve.context import Context, Route, json_response
from irisserve.errors import InvalidInput, NotFound, UnsupportedMediaType
from irisserve.model import Model
from irisserve.protocol import encode_prediction_list
from irisserve.schema import parse_instances
from irisserve.scoring import score

__all__ = ["ROUTES", "SERVER_NAME"]

SERVER_NAME = "irisserve"
_HEADER_LENGTH = "Inference-Header-Content-Length"
_V1_KEYS = ("instances", "parameters")


def _check_serves(model: Model, name: str | None, version: str | None, source: str) -> None:
    """``NotFound`` unless ``name`` (and ``version``), where given, are the loaded model's."""
    served = model.manifest.model_name
    if name is not None and name != served:
        raise NotFound(f"{source}no model named {name!r}; this server serves {served!r}")
    if version is not None and version != model.version:
        raise NotFound(
            f"{source}model {served!r} has no version {version!r}; it has {model.version!r}"
        )


def _model(ctx: Context) -> Model:
    """The loaded model, if the path names it (and its version); otherwise ``NotFound``."""
    name, version = ctx.params["name"], ctx.params.get("version")
    model = loader.get_model(ctx.settings)
    _check_serves(model, name, version, "")
    return model


def _live(ctx: Context) -> flask.Response:
    return json_response({"live": True})


def _ready(ctx: Context) -> flask.Response:
    loader.get_model(ctx.settings)  # loads now; a model that cannot load answers 503
    return json_response({"ready": True})


def _server_metadata(ctx: Context) -> flask.Response:
    from irisserve import oip_codec  # deferred, like every use: a native cold start skips it

    return json_response(
        {"name": SERVER_NAME, "version": __version__, "extensions": list(oip_codec.EXTENSIONS)}
    )


def _model_metadata(ctx: Context) -> flask.Response:
    from irisserve import oip_codec

    return json_response(oip_codec.model_metadata(_model(ctx)))


def _model_ready(ctx: Context) -> flask.Response:
    return json_response({"name": _model(ctx).manifest.model_name, "ready": True})


def _infer(ctx: Context) -> flask.Response:
    encoding = ctx.request.content_encoding
    if encoding and encoding.lower() != "identity":
        raise UnsupportedMediaType(f"Content-Encoding {encoding} is not supported; send it plain")
    from irisserve import oip_codec

    body = ctx.read_body()
    header, binary = oip_codec.split_body(body, ctx.request.headers.get(_HEADER_LENGTH))
    model = _model(ctx)
    decoded = jsoncodec.decode(header)
    # The KServe SDK names the model in the body too: it must be the one the URL names.
    _check_serves(model, *oip_codec.request_target(decoded), "the request body: ")
    request = oip_codec.parse_request(
        decoded, binary, model.schema, ctx.settings.max_batch_rows, oip_codec.outputs(model)
    )
    rows = request.rows
    predictions = model.predict_rows(rows) if isinstance(rows, list) else model.predict(rows)
    ctx.log["rows"] = len(request.rows)
    payload, header_length = oip_codec.encode_response(model, request, predictions)
    if header_length is None:
        return flask.Response(payload, mimetype="application/json")
    return flask.Response(
        payload,
        mimetype="application/octet-stream",
        headers={_HEADER_LENGTH: str(header_length)},
    )


def _v1_instances(body: Any) -> Any:
    if not isinstance(body, dict) or "instances" not in body:
        raise InvalidInput('the body must be a JSON object with "instances": [row, ...]')
    extra = sorted(key for key in body if key not in _V1_KEYS)
    if extra:
        raise InvalidInput(f'unknown key {extra[0]!r}: the body takes "instances" and "parameters"')
    return body["instances"]


def _v1_predict(ctx: Context) -> flask.Response:
    body = ctx.read_json()
    model = _model(ctx)
    rows = parse_instances(_v1_instances(body), model.schema, ctx.settings.max_batch_rows)
    scored = score(model, rows, ctx.settings)
    ctx.log.update(scored.log_fields())
    return json_response(encode_prediction_list(model, scored.predictions, scored.drift.warnings))


_V2_MODEL = "/v2/models/<name>"
_V2_VERSION = "/v2/models/<name>/versions/<version>"

ROUTES: tuple[Route, ...] = (
    Route("/v2/health/live", ("GET",), _live),
    Route("/v2/health/ready", ("GET",), _ready),
    Route("/v2", ("GET",), _server_metadata),
    Route(_V2_MODEL, ("GET",), _model_metadata),
    Route(_V2_VERSION, ("GET",), _model_metadata),
    Route(f"{_V2_MODEL}/ready", ("GET",), _model_ready),
    Route(f"{_V2_VERSION}/ready", ("GET",), _model_ready),
    Route(f"{_V2_MODEL}/infer", ("POST",), _infer),
    Route(f"{_V2_VERSION}/infer", ("POST",), _infer),
    Route("/v1/models/<name>:predict", ("POST",), _v1_predict),
    Route("/v1/models/<name>", ("GET",), _model_ready),
)

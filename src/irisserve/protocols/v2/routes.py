"""The Open Inference Protocol (KServe V2) routes.

Health, server and model metadata, model readiness and inference, with the binary tensor
data extension (``irisserve.protocols.v2.decode`` and ``encode``, imported by the routes that
need them). The
infer routes read the body whatever its Content-Type (``tritonclient`` sends none), within
the body limit.
"""

from __future__ import annotations

import flask

from irisserve import __version__, jsoncodec
from irisserve.errors import UnsupportedMediaType
from irisserve.protocols._served import check_serves, model_ready, path_model
from irisserve.serving import state
from irisserve.serving.context import Context
from irisserve.serving.responses import json_response
from irisserve.serving.routing import Route

__all__ = ["ROUTES", "SERVER_NAME"]

SERVER_NAME = "irisserve"
_HEADER_LENGTH = "Inference-Header-Content-Length"


def _live(ctx: Context) -> flask.Response:
    return json_response({"live": True})


def _ready(ctx: Context) -> flask.Response:
    state.get_model(ctx.settings)  # loads now; a model that cannot load answers 503
    return json_response({"ready": True})


def _server_metadata(ctx: Context) -> flask.Response:
    from irisserve.protocols.v2 import encode

    return json_response(
        {"name": SERVER_NAME, "version": __version__, "extensions": list(encode.EXTENSIONS)}
    )


def _model_metadata(ctx: Context) -> flask.Response:
    from irisserve.protocols.v2 import encode

    return json_response(encode.model_metadata(path_model(ctx)))


def _infer(ctx: Context) -> flask.Response:
    encoding = ctx.request.content_encoding
    if encoding and encoding.lower() != "identity":
        raise UnsupportedMediaType(f"Content-Encoding {encoding} is not supported; send it plain")
    from irisserve.protocols.v2 import decode, encode

    body = ctx.read_body()
    header, binary = decode.split_body(body, ctx.request.headers.get(_HEADER_LENGTH))
    model = path_model(ctx)
    decoded = jsoncodec.decode(header)
    # The KServe SDK names the model in the body too: it must be the one the URL names.
    check_serves(model, *decode.request_target(decoded), "the request body: ")
    request = decode.parse_request(
        decoded, binary, model.schema, ctx.settings.max_batch_rows, decode.outputs(model)
    )
    scores = model.predict_rows(request.rows)
    ctx.log["rows"] = len(request.rows)
    payload, header_length = encode.encode_response(model, request, scores)
    if header_length is None:
        return flask.Response(payload, mimetype="application/json")
    return flask.Response(
        payload,
        mimetype="application/octet-stream",
        headers={_HEADER_LENGTH: str(header_length)},
    )


_V2_MODEL = "/v2/models/<name>"
_V2_VERSION = "/v2/models/<name>/versions/<version>"

ROUTES: tuple[Route, ...] = (
    Route("/v2/health/live", ("GET",), _live),
    Route("/v2/health/ready", ("GET",), _ready),
    Route("/v2", ("GET",), _server_metadata),
    Route(_V2_MODEL, ("GET",), _model_metadata),
    Route(_V2_VERSION, ("GET",), _model_metadata),
    Route(f"{_V2_MODEL}/ready", ("GET",), model_ready),
    Route(f"{_V2_VERSION}/ready", ("GET",), model_ready),
    Route(f"{_V2_MODEL}/infer", ("POST",), _infer),
    Route(f"{_V2_VERSION}/infer", ("POST",), _infer),
)

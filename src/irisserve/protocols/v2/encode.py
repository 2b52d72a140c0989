"""The Open Inference Protocol (KServe V2) answers: inference responses and model metadata.
Pure: no Flask, no I/O.

A response lists the outputs a request asked for (``irisserve.protocols.v2.decode``), each
as JSON ``data`` or, with the binary tensor data extension, as raw little-endian bytes after
the JSON header (BYTES elements with a 4-byte little-endian length prefix), in the order of
the outputs. An output is taken from the scores as they come: Python lists (packed with
``struct``) or, for a batch scored in numpy, arrays (``tobytes``; in JSON ``data``, written
by orjson from the array, the same text as from the list). The header is written by
``irisserve.jsoncodec.encode``, whatever the batch's size.
"""

from __future__ import annotations

import struct
from itertools import chain
from typing import Any

from irisserve import jsoncodec
from irisserve.artifact.manifest import NUMERIC
from irisserve.artifact.model import Model
from irisserve.protocols.v2.decode import InferRequest, outputs
from irisserve.scorers.contract import Scores, as_list

__all__ = ["EXTENSIONS", "INPUT_NAME", "encode_response", "model_metadata"]

INPUT_NAME = "input-0"
#: Server metadata ``extensions``.
EXTENSIONS = ("binary_tensor_data",)
#: Numeric output datatype → its ``struct`` code (packed little-endian) and numpy dtype.
_STRUCT_CODES = {"INT64": "q", "FP64": "d"}
_DTYPES = {"INT64": "<i8", "FP64": "<f8"}


def _length_prefixed(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<I", len(data)) + data


def _output(
    name: str, datatype: str, model: Model, scores: Scores, binary: bool
) -> tuple[dict[str, Any], bytes]:
    """One output's JSON description and, when binary, its raw bytes (else ``b""``)."""
    labels = [] if scores.labels is None else scores.labels
    data: Any
    if name == "label":
        data = list(map(model.class_names.__getitem__, as_list(labels)))
        shape = [len(data)]
    elif name == "predict":
        data = labels if scores.labels is not None else scores.values
        data = [] if data is None else data
        shape = [len(data)]
    else:
        matrix = scores.probabilities if name == "predict_proba" else scores.decision
        if matrix is None or isinstance(matrix, list):
            matrix = matrix or []
            shape = [len(matrix), len(matrix[0]) if matrix else 0]
            data = list(chain.from_iterable(matrix))
        else:
            shape, data = list(matrix.shape), matrix.ravel()
    tensor: dict[str, Any] = {"name": name, "datatype": datatype, "shape": shape}
    if not binary:
        tensor["data"] = data
        return tensor, b""
    if datatype == "BYTES":
        prefixed = [_length_prefixed(text) for text in model.class_names]
        raw = b"".join(map(prefixed.__getitem__, as_list(labels)))
    elif isinstance(data, list):
        raw = struct.pack(f"<{len(data)}{_STRUCT_CODES[datatype]}", *data)
    else:
        raw = data.astype(_DTYPES[datatype], copy=False).tobytes()
    tensor["parameters"] = {"binary_data_size": len(raw)}
    return tensor, raw


def encode_response(
    model: Model, request: InferRequest, scores: Scores
) -> tuple[bytes, int | None]:
    """The response body, and the JSON header's length when binary outputs follow it."""
    header: dict[str, Any] = {
        "model_name": model.manifest.model_name,
        "model_version": model.version,
    }
    if request.id is not None:
        header["id"] = request.id
    tensors: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    datatypes = outputs(model)
    for output in request.outputs:
        tensor, raw = _output(output.name, datatypes[output.name], model, scores, output.binary)
        tensors.append(tensor)
        if output.binary:
            chunks.append(raw)
    encoded = jsoncodec.encode({**header, "outputs": tensors})
    if not chunks:
        return encoded, None
    return b"".join([encoded, *chunks]), len(encoded)


def model_metadata(model: Model) -> dict[str, Any]:
    """The model metadata document: name, versions, platform, input and output tensors.

    The platform is what the model is (``Manifest.framework``): ``sklearn``, ``xgboost``
    or ``lightgbm``.
    The inputs are the one ``[rows, n_features]`` FP64 tensor when every feature is a
    number, else one input per feature: BYTES for a categorical one, FP64 for a number.
    """
    classes = len(model.class_names)
    shapes = {"predict_proba": [-1, classes], "decision_function": [-1, -1]}
    if model.schema.all_numeric:
        inputs = [{"name": INPUT_NAME, "datatype": "FP64", "shape": [-1, len(model.feature_names)]}]
    else:
        inputs = [
            {
                "name": feature.name,
                "datatype": "FP64" if feature.type == NUMERIC else "BYTES",
                "shape": [-1],
            }
            for feature in model.features
        ]
    return {
        "name": model.manifest.model_name,
        "versions": [model.version],
        "platform": model.manifest.framework,
        "inputs": inputs,
        "outputs": [
            {"name": name, "datatype": datatype, "shape": shapes.get(name, [-1])}
            for name, datatype in outputs(model).items()
        ],
    }

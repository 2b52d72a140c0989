"""The native answer's JSON text, written for a whole batch at once.

``irisserve.jsoncodec.encode(predictions_payload(...))`` builds one dict per row and then
writes them: for 10,000 rows building the dicts costs several times the writing. Every
row's object has the same keys in the same order, so a batch scored in numpy is written
here without them: each score column is written once by orjson (``OPT_SERIALIZE_NUMPY``,
the text of every float as ``encode`` writes it) and split into one text per row, and the
rows are the fixed pieces (the label's prefix, the keys) and those texts interleaved by
slice assignment, then joined — the same bytes as ``encode`` gives
(``tests/unit/protocols/test_predictions_json.py``). A few rows (Python lists), a single
row, class names that repeat, or a class value or warning orjson cannot write go through
``encode`` as before.
"""

from __future__ import annotations

from typing import Any

import orjson

from irisserve import jsoncodec
from irisserve.artifact.manifest import REGRESSION
from irisserve.artifact.model import Model
from irisserve.protocols.predictions import Warnings, prediction_objects, predictions_payload
from irisserve.scorers.contract import Scores

__all__ = ["objects_json", "predictions_body"]

#: A column's texts and the fixed text that follows each of them in a row's object.
_Piece = tuple[list[bytes], bytes]


def _texts(array: Any) -> list[bytes]:
    """One JSON text per element of a 1-D numeric array, as orjson writes each."""
    written = orjson.dumps(array, option=orjson.OPT_SERIALIZE_NUMPY)
    return written[1:-1].split(b",") if len(array) else []


def _dump(value: Any) -> bytes:
    return orjson.dumps(value)


def _layout(model: Model, scores: Scores) -> tuple[list[bytes], list[_Piece]]:
    """Each row's first piece, and the columns that follow it; the last piece ends the row
    with ``},``. ``orjson.JSONEncodeError`` for a class orjson cannot write."""
    if model.task.type == REGRESSION:
        return [b'{"prediction":'] * len(scores), [(_texts(scores.values), b"},")]
    classes, names = model.task.classes or [], model.class_names
    import numpy as np  # the batch's arrays are numpy's (``_whole_batch``)

    labels: Any = scores.labels
    probabilities: Any = scores.probabilities
    decision: Any = scores.decision
    heads = [
        b'{"prediction":' + _dump(value) + b',"prediction_label":' + _dump(name)
        for value, name in zip(classes, names, strict=False)
    ]
    if probabilities is not None:
        width = probabilities.shape[1]
        if width != len(names):
            raise ValueError(f"{width} probabilities for {len(names)} classes")
        keys = [_dump(name) + b":" for name in names]
        flat = _texts(probabilities.ravel())
        confidence = probabilities.ravel().take(np.arange(len(labels)) * width + labels)
        columns: list[_Piece] = [(_texts(confidence), b',"probabilities":{' + keys[0])]
        columns += [(flat[j::width], b"," + keys[j + 1]) for j in range(width - 1)]
        columns.append((flat[width - 1 :: width], b"}},"))
        first = [head + b',"confidence":' for head in heads]
    elif decision is not None:
        width = decision.shape[1]
        flat = _texts(decision.ravel())
        columns = [(flat[j::width], b",") for j in range(width - 1)]
        columns.append((flat[width - 1 :: width], b"]},"))
        first = [head + b',"decision_function":[' for head in heads]
    else:
        columns, first = [], [head + b"}," for head in heads]
    return list(map(first.__getitem__, labels.tolist())), columns


def _interleaved(first: list[bytes], columns: list[_Piece], warnings: Warnings) -> bytes:
    """The rows' objects, separated by commas."""
    stride = 1 + 2 * len(columns)
    pieces: list[bytes] = [b""] * (stride * len(first))
    pieces[0::stride] = first
    for j, (texts, after) in enumerate(columns, start=1):
        pieces[2 * j - 1 :: stride] = texts
        pieces[2 * j :: stride] = [after] * len(first)
    for row, items in warnings.items():  # before the row's closing brace
        end = stride * (row + 1) - 1
        pieces[end] = pieces[end][:-2] + b',"warnings":' + _dump(items) + b"},"
    pieces[-1] = pieces[-1][:-1]
    return b"".join(pieces)


def _whole_batch(model: Model, predictions: Scores) -> bool:
    """Whether the batch's columns are numpy arrays (and every class name a distinct key)."""
    column = predictions.labels if predictions.labels is not None else predictions.values
    names = model.class_names
    return column is not None and not isinstance(column, list) and len(set(names)) == len(names)


def _written(model: Model, predictions: Scores, warnings: Warnings | None) -> bytes | None:
    """The objects' JSON array written here, or None where ``jsoncodec.encode`` must write
    the whole document (lists, or what only the standard library writes)."""
    if not len(predictions) or not _whole_batch(model, predictions):
        return None
    try:
        first, columns = _layout(model, predictions)
        return b"[" + _interleaved(first, columns, warnings or {}) + b"]"
    except orjson.JSONEncodeError:
        return None


def objects_json(model: Model, predictions: Scores, warnings: Warnings | None = None) -> bytes:
    """``jsoncodec.encode(prediction_objects(model, predictions, warnings))``, the same bytes
    (the native batch answer's ``predictions``, and V1's)."""
    written = _written(model, predictions, warnings)
    if written is None:
        return jsoncodec.encode(prediction_objects(model, predictions, warnings))
    return written


def predictions_body(
    model: Model, predictions: Scores, single: bool, warnings: Warnings | None = None
) -> bytes:
    """``jsoncodec.encode(predictions_payload(...))``, the same bytes."""
    written = None if single else _written(model, predictions, warnings)
    if written is not None:
        try:
            version = _dump(model.version)
        except orjson.JSONEncodeError:
            pass
        else:
            return b'{"predictions":' + written + b',"model_version":' + version + b"}"
    return jsoncodec.encode(predictions_payload(model, predictions, single, warnings))

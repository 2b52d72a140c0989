"""The native JSON protocol: prediction objects, as the seed API documented them.

A classifier's object holds the predicted class (``prediction``, as scikit-learn's
``predict`` answers it) and its name, then its probabilities (with the confidence) or its
decision scores; a regressor's holds the predicted value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import add
from typing import Any, NamedTuple

from irisserve.artifact.manifest import REGRESSION
from irisserve.artifact.model import Model
from irisserve.protocols import jsoncodec
from irisserve.scorers.contract import Scores

__all__ = [
    "LARGE_ANSWER_ROWS",
    "encode_prediction_list",
    "encode_predictions",
    "prediction_objects",
    "predictions_payload",
]


Warnings = Mapping[int, list[dict[str, Any]]]


def _objects(model: Model, scores: Scores) -> list[dict[str, Any]]:
    if model.task.type == REGRESSION:
        return [{"prediction": value} for value in scores.values or ()]
    classes, names, labels = model.task.classes or [], model.class_names, scores.labels or []
    if scores.probabilities is not None:
        return [
            {
                "prediction": classes[label],
                "prediction_label": names[label],
                "confidence": probabilities[label],
                "probabilities": dict(zip(names, probabilities, strict=True)),
            }
            for label, probabilities in zip(labels, scores.probabilities, strict=True)
        ]
    if scores.decision is not None:
        return [
            {
                "prediction": classes[label],
                "prediction_label": names[label],
                "decision_function": decision,
            }
            for label, decision in zip(labels, scores.decision, strict=True)
        ]
    return [{"prediction": classes[label], "prediction_label": names[label]} for label in labels]


def prediction_objects(
    model: Model, predictions: Scores, warnings: Warnings | None = None
) -> list[dict[str, Any]]:
    """One object per row, by the model's task (see the module docstring).

    A row listed in ``warnings`` (row index → warnings) also carries ``"warnings"``.
    """
    objects = _objects(model, predictions)
    for row, items in (warnings or {}).items():
        objects[row]["warnings"] = items
    return objects


def predictions_payload(
    model: Model,
    predictions: Scores,
    single: bool,
    warnings: Warnings | None = None,
) -> dict[str, Any]:
    """The response body: one object for ``features``, a list for ``instances``."""
    objects = prediction_objects(model, predictions, warnings)
    if single:
        return {**objects[0], "model_version": model.version}
    return {"predictions": objects, "model_version": model.version}


#: Answers with at least this many rows are assembled from encoded pieces (a fraction of
#: the time of building one object per row).
LARGE_ANSWER_ROWS = 256


class _Layout(NamedTuple):
    """How one row's object is written: ``head`` (by label, or one for every row), the
    confidence, then for each score its fragment and number, then ``close``."""

    heads: list[bytes]
    fragments: list[bytes]
    close: bytes
    numbers: Sequence[Any] | None = None
    confidence: bool = False


def _layout(model: Model, scores: Scores) -> _Layout | None:
    """The layout of ``model``'s prediction objects (``None``: write them as objects)."""

    dump = jsoncodec.encode

    def key(name: str) -> bytes:
        return dump(name) + b":"

    if model.task.type == REGRESSION:
        return _Layout([b"{" + key("prediction")], [b""], b"}", scores.values)
    classes, names = model.task.classes or [], model.class_names
    if len(classes) != len(names):
        return None
    heads = [
        b"{" + key("prediction") + dump(value) + b"," + key("prediction_label") + dump(name)
        for value, name in zip(classes, names, strict=True)
    ]
    if scores.probabilities is not None:
        if len(set(names)) != len(names):  # the object's keys would collapse
            return None
        first, *rest = [key(name) for name in names]
        return _Layout(
            [head + b"," + key("confidence") for head in heads],
            [b"," + key("probabilities") + b"{" + first, *(b"," + k for k in rest)],
            b"}}",
            scores.probabilities,
            confidence=True,
        )
    if scores.decision is not None:
        columns = len(scores.decision[0])
        fragments = [b"", *[b","] * (columns - 1)]
        heads = [head + b"," + key("decision_function") + b"[" for head in heads]
        return _Layout(heads, fragments, b"]}", scores.decision)
    return _Layout(heads, [], b"}")


def _assembled(model: Model, scores: Scores, warnings: Warnings | None) -> bytes | None:
    """The JSON list of the prediction objects, written piece by piece: what
    ``jsoncodec.encode`` writes for them, byte for byte."""
    dump = jsoncodec.encode
    layout = _layout(model, scores)
    if layout is None:
        return None
    n = len(scores)
    labels = scores.labels or []
    width = 1 + layout.confidence + 2 * len(layout.fragments) + 1
    pieces = [b""] * (n * width)
    heads = layout.heads
    pieces[0::width] = list(map(heads.__getitem__, labels)) if len(heads) > 1 else heads * n
    if layout.numbers is not None:
        texts = jsoncodec.number_texts(layout.numbers)
        columns = len(layout.fragments)
        if layout.confidence:
            picked = map(add, range(0, n * columns, columns), labels)  # row's label's score
            pieces[1::width] = list(map(texts.__getitem__, picked))
        for column, fragment in enumerate(layout.fragments):
            slot = 1 + layout.confidence + 2 * column
            pieces[slot::width] = [fragment] * n
            pieces[slot + 1 :: width] = texts[column::columns]
    pieces[width - 1 :: width] = [layout.close + b","] * n
    inner = layout.close[:-1] + b"," + dump("warnings") + b":"
    for row, items in (warnings or {}).items():
        pieces[row * width + width - 1] = inner + dump(items) + b"},"
    pieces[-1] = pieces[-1][:-1]
    return b"[" + b"".join(pieces) + b"]"


def _large_answer(
    model: Model,
    predictions: Scores,
    warnings: Warnings | None,
    members: dict[str, Any],
) -> jsoncodec.Encoded | None:
    """``{"predictions": [...], **members}`` assembled, for a batch of ``LARGE_ANSWER_ROWS``
    or more whose objects have a layout; else ``None``."""
    if len(predictions) < LARGE_ANSWER_ROWS:
        return None
    objects = _assembled(model, predictions, warnings)
    if objects is None:
        return None
    dump = jsoncodec.encode
    tail = b"".join(b"," + dump(key) + b":" + dump(value) for key, value in members.items())
    return jsoncodec.Encoded(b"{" + dump("predictions") + b":" + objects + tail + b"}")


def encode_predictions(
    model: Model,
    predictions: Scores,
    single: bool,
    warnings: Warnings | None = None,
) -> jsoncodec.Encoded:
    """The encoded response body of ``predictions_payload``.

    The scores must be finite, as ``Model`` guarantees. Every row's object is written alike
    whatever the batch: a batch of ``LARGE_ANSWER_ROWS`` or more is only assembled faster.
    """
    if not single:
        version = {"model_version": model.version}
        large = _large_answer(model, predictions, warnings, version)
        if large is not None:
            return large
    payload = predictions_payload(model, predictions, single, warnings)
    return jsoncodec.Encoded(jsoncodec.encode(payload))


def encode_prediction_list(
    model: Model, predictions: Scores, warnings: Warnings | None = None
) -> jsoncodec.Encoded:
    """``{"predictions": [...]}`` (the KServe V1 answer) as ``jsoncodec.encode`` writes it.

    The scores must be finite, as ``Model`` guarantees.
    """
    large = _large_answer(model, predictions, warnings, {})
    if large is not None:
        return large
    objects = prediction_objects(model, predictions, warnings)
    return jsoncodec.Encoded(jsoncodec.encode({"predictions": objects}))

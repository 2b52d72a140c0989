"""The native JSON protocol: prediction objects, as the seed API documented them.

A classifier's object holds the predicted class (``prediction``, as scikit-learn's
``predict`` answers it) and its name, then its probabilities (with the confidence) or its
decision scores; a regressor's holds the predicted value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from irisserve import jsoncodec
from irisserve.manifest import REGRESSION
from irisserve.model import Model, Scores

__all__ = [
    "LARGE_ANSWER_ROWS",
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


#: Answers with at least this many rows are encoded by orjson (a tenth of the time).
LARGE_ANSWER_ROWS = 256


def encode_predictions(
    model: Model,
    predictions: Scores,
    single: bool,
    warnings: Warnings | None = None,
) -> jsoncodec.Encoded:
    """The encoded response body of ``predictions_payload``.

    The scores must be finite, as ``Model`` guarantees.
    """
    payload = predictions_payload(model, predictions, single, warnings)
    if len(predictions) >= LARGE_ANSWER_ROWS:
        return jsoncodec.encode_large(payload)
    return jsoncodec.Encoded(jsoncodec.encode(payload))

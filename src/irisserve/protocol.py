"""The native JSON protocol: prediction objects, as the seed API documented them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from irisserve import jsoncodec
from irisserve.model import Model, Predictions, RowPredictions

__all__ = [
    "LARGE_ANSWER_ROWS",
    "encode_predictions",
    "prediction_objects",
    "predictions_payload",
]


Warnings = Mapping[int, list[dict[str, Any]]]


def _lists(predictions: Predictions | RowPredictions) -> tuple[list[int], list[list[float]]]:
    if isinstance(predictions, RowPredictions):
        return predictions.labels, predictions.probabilities
    return predictions.labels.tolist(), predictions.probabilities.tolist()


def prediction_objects(
    model: Model, predictions: Predictions | RowPredictions, warnings: Warnings | None = None
) -> list[dict[str, Any]]:
    """One object per row: label, its name, the confidence and every class probability.

    A row listed in ``warnings`` (row index → warnings) also carries ``"warnings"``.
    """
    names = model.class_names
    objects = [
        {
            "prediction": label,
            "prediction_label": names[label],
            "confidence": probabilities[label],
            "probabilities": dict(zip(names, probabilities, strict=True)),
        }
        for label, probabilities in zip(*_lists(predictions), strict=True)
    ]
    for row, items in (warnings or {}).items():
        objects[row]["warnings"] = items
    return objects


def predictions_payload(
    model: Model,
    predictions: Predictions | RowPredictions,
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
    predictions: Predictions | RowPredictions,
    single: bool,
    warnings: Warnings | None = None,
) -> jsoncodec.Encoded:
    """The encoded response body of ``predictions_payload``.

    The probabilities must be finite, as ``Model`` guarantees.
    """
    payload = predictions_payload(model, predictions, single, warnings)
    if len(predictions.labels) >= LARGE_ANSWER_ROWS:
        return jsoncodec.encode_large(payload)
    return jsoncodec.Encoded(jsoncodec.encode(payload))

"""The native JSON protocol: prediction objects, as the seed API documented them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from irisserve.model import Model, Predictions

__all__ = ["prediction_objects", "predictions_payload"]


Warnings = Mapping[int, list[dict[str, Any]]]


def prediction_objects(
    model: Model, predictions: Predictions, warnings: Warnings | None = None
) -> list[dict[str, Any]]:
    """One object per row: label, its name, the confidence and every class probability.

    A row listed in ``warnings`` (row index → warnings) also carries ``"warnings"``.
    """
    names = model.class_names
    objects = []
    for label, probabilities in zip(
        predictions.labels.tolist(), predictions.probabilities.tolist(), strict=True
    ):
        objects.append(
            {
                "prediction": label,
                "prediction_label": names[label],
                "confidence": probabilities[label],
                "probabilities": dict(zip(names, probabilities, strict=True)),
            }
        )
    for row, items in (warnings or {}).items():
        objects[row]["warnings"] = items
    return objects


def predictions_payload(
    model: Model, predictions: Predictions, single: bool, warnings: Warnings | None = None
) -> dict[str, Any]:
    """The response body: one object for ``features``, a list for ``instances``."""
    objects = prediction_objects(model, predictions, warnings)
    if single:
        return {**objects[0], "model_version": model.version}
    return {"predictions": objects, "model_version": model.version}

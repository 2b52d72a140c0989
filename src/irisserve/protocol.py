"""The native JSON protocol: prediction objects, as the seed API documented them."""

from __future__ import annotations

from typing import Any

from irisserve.model import Model, Predictions

__all__ = ["prediction_objects", "predictions_payload"]


def prediction_objects(model: Model, predictions: Predictions) -> list[dict[str, Any]]:
    """One object per row: label, its name, the confidence and every class probability."""
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
    return objects


def predictions_payload(model: Model, predictions: Predictions, single: bool) -> dict[str, Any]:
    """The response body: one object for ``features``, a list for ``instances``."""
    objects = prediction_objects(model, predictions)
    if single:
        return {**objects[0], "model_version": model.version}
    return {"predictions": objects, "model_version": model.version}

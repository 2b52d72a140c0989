"""The metrics a manifest records: the estimator scored on the rows it was trained on."""

from __future__ import annotations

from typing import Any

from irisserve.artifact.manifest import CLASSIFICATION, Task

__all__ = ["training_metrics"]


def training_metrics(estimator: Any, data: Any, y: Any, target: Task) -> dict[str, Any]:
    """Accuracy for a classifier, R² and MAE for a regressor; nothing without ``y``."""
    if y is None:
        return {}
    from sklearn import metrics

    predicted = estimator.predict(data)
    if target.type == CLASSIFICATION:
        return {"split": "train", "accuracy": float(metrics.accuracy_score(y, predicted))}
    return {
        "split": "train",
        "r2": float(metrics.r2_score(y, predicted)),
        "mae": float(metrics.mean_absolute_error(y, predicted)),
    }

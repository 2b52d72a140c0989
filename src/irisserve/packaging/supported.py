"""Refuse, with a sentence, the estimators irisserve cannot serve yet: many outputs.

irisserve serves one target per model; a multi-output estimator answers several per row.
"""

from __future__ import annotations

from typing import Any

from irisserve.packaging.errors import PackagingError

__all__ = ["check_outputs"]


def check_outputs(estimator: Any, rows: Any) -> None:
    """Refuse an estimator that answers more than one target per row (tried on ``rows[:1]``)."""
    import numpy as np

    classes = getattr(estimator, "classes_", None)
    if isinstance(classes, list):
        raise PackagingError(
            f"{type(estimator).__name__} is a multi-output classifier ({len(classes)} targets): "
            "irisserve serves one target per model; package one classifier per target"
        )
    shape = np.shape(estimator.predict(rows[:1]))
    if len(shape) > 1:
        per_row = int(np.prod(shape[1:]))
        raise PackagingError(
            f"{type(estimator).__name__} predicts {per_row} values per row (shape {shape}): "
            "multi-output models are not served yet; irisserve serves one target per model: "
            "package one model per target"
            + (" (or fit it on a 1-D target)" if per_row == 1 else "")
        )

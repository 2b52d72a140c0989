"""Score validated rows the same way for every caller: predictions, drift, log fields.

``POST /predict``, KServe V1 and Pub/Sub messages all answer with the prediction
objects of ``irisserve.protocol``; this is where their rows are scored and checked
against the training ranges, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from irisserve.config import Settings
from irisserve.drift import DriftReport, class_counts, out_of_range
from irisserve.model import Model, RowPredictions

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["Scored", "score"]


@dataclass(frozen=True)
class Scored:
    """A scored batch: one prediction per row, and what drifted."""

    predictions: RowPredictions
    drift: DriftReport
    class_counts: dict[str, int]

    def log_fields(self) -> dict[str, Any]:
        """The request log's ``irisserve`` fields for this batch."""
        return {
            "rows": len(self.predictions.labels),
            "class_counts": self.class_counts,
            "out_of_range_rows": self.drift.rows,
            "out_of_range": self.drift.counts,
        }


def score(
    model: Model, rows: list[list[float]] | npt.NDArray[np.float64], settings: Settings
) -> Scored:
    """Predict ``rows`` and flag values outside the training ranges.

    Raises ``InvalidInput`` for rows whose scores overflow.
    """
    predictions = model.predict_rows(rows)
    drift = out_of_range(
        rows, model.feature_names, model.manifest.feature_statistics, settings.drift_margin
    )
    return Scored(predictions, drift, class_counts(predictions.labels, model.class_names))

"""Score validated rows the same way for every caller: predictions, drift, log fields.

``POST /predict``, KServe V1 and Pub/Sub messages all answer with the prediction
objects of ``irisserve.protocols.predictions``; this is where their rows are scored and checked
against the training ranges, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from irisserve.artifact.model import Model
from irisserve.config import Settings
from irisserve.drift import DriftReport, class_counts, drift
from irisserve.schema import Cell
from irisserve.scorers.contract import Scores

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["Scored", "score"]


@dataclass(frozen=True)
class Scored:
    """A scored batch: one prediction per row, and what drifted."""

    predictions: Scores
    drift: DriftReport
    class_counts: dict[str, int] | None

    def log_fields(self) -> dict[str, Any]:
        """The request log's ``irisserve`` fields for this batch."""
        fields: dict[str, Any] = {"rows": len(self.predictions)}
        if self.class_counts is not None:
            fields["class_counts"] = self.class_counts
        fields["out_of_range_rows"] = self.drift.rows
        fields["out_of_range"] = self.drift.counts
        if self.drift.unseen:
            fields["unseen_categories"] = self.drift.unseen
        return fields


def score(
    model: Model, rows: Sequence[Sequence[Cell]] | npt.NDArray[np.float64], settings: Settings
) -> Scored:
    """Predict ``rows`` and flag values outside the training ranges or categories.

    Raises ``InvalidInput`` for rows whose scores overflow.
    """
    predictions = model.predict_rows(rows)
    report = drift(rows, model.features, model.manifest.feature_statistics, settings.drift_margin)
    labels = predictions.labels
    counts = None if labels is None else class_counts(labels, model.class_names)
    return Scored(predictions, report, counts)

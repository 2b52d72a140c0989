"""A loaded model: a verified artifact's manifest beside its scorer.

``Model.predict_rows`` takes what validation produced, Python lists for a few rows or
(all-numeric schemas only) a float64 array for many, and answers ``Scores`` (Python lists,
what every protocol's encoder reads). Rows whose scores overflow are refused.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from irisserve.artifact.manifest import Feature, Manifest, Task
from irisserve.errors import InvalidInput
from irisserve.schema import InputSchema
from irisserve.scorers.contract import Scorer, Scores

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from irisserve.schema import Cell

__all__ = ["Model"]


def _overflow(row: int) -> InvalidInput:
    return InvalidInput(
        f"row {row}: the feature values are so large that the model's scores overflow; "
        "send values of a realistic magnitude"
    )


def _check_finite(scores: Scores) -> None:
    """Refuse the first row whose scores are not finite (finite but huge inputs).

    One sum of everything when all is well; a sum that overflows although every score is
    finite (scores near the largest float) is no fault of any row.
    """
    for column in (scores.probabilities, scores.decision):
        if column and not math.isfinite(sum(map(sum, column))):
            _refuse_first(not all(map(math.isfinite, row)) for row in column)
    values = scores.values
    if values and not math.isfinite(sum(values)):
        _refuse_first(not math.isfinite(value) for value in values)


def _refuse_first(faulty: Iterable[bool]) -> None:
    """``InvalidInput`` naming the first row that is faulty, if any is."""
    row = next((i for i, fault in enumerate(faulty) if fault), None)
    if row is not None:
        raise _overflow(row)


@dataclass(frozen=True)
class Model:
    """A verified, loaded artifact ready to score."""

    manifest: Manifest
    scorer: Scorer
    backend: str

    @property
    def version(self) -> str:
        """The artifact's model version."""
        return self.manifest.model_version

    @property
    def feature_names(self) -> list[str]:
        """Input feature names, in column order."""
        return self.manifest.feature_names

    @property
    def class_names(self) -> list[str]:
        """Human-readable class names, indexed by label (empty for a regressor)."""
        return self.manifest.class_names

    @cached_property
    def features(self) -> list[Feature]:
        """The input schema."""
        return self.manifest.features

    @cached_property
    def task(self) -> Task:
        """What the model predicts."""
        return self.manifest.prediction_task

    @cached_property
    def schema(self) -> InputSchema:
        """The input schema, compiled for validation (once per loaded model)."""
        return InputSchema(self.features)

    def predict_rows(self, rows: Sequence[Sequence[Cell]] | npt.NDArray[np.float64]) -> Scores:
        """Score validated rows into Python lists.

        Raises ``InvalidInput`` for rows whose scores overflow (finite but huge values).
        """
        scores = self.scorer.score_rows(rows)
        _check_finite(scores)
        return scores

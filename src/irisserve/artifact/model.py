"""A loaded model: a verified artifact's manifest beside its scorer.

``Model.predict_rows`` takes what validation produced, Python lists for a few rows or
(all-numeric schemas only) a float64 array for many, and answers ``Scores`` (Python lists,
or numpy arrays for a batch scored in numpy, as ``irisserve.scorers.contract`` says: what
every protocol's encoder reads). Rows whose scores overflow are refused.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from irisserve.artifact.deferred import DeferredFiles
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

    Lists: one sum of everything when all is well; a sum that overflows although every score
    is finite (scores near the largest float) is no fault of any row. Arrays: numpy's
    ``isfinite`` of every score.
    """
    for column in (scores.probabilities, scores.decision):
        if isinstance(column, list):
            if column and not math.isfinite(sum(map(sum, column))):
                _refuse_first(not all(map(math.isfinite, row)) for row in column)
        elif column is not None:
            _refuse_first_array(column)
    values = scores.values
    if isinstance(values, list):
        if values and not math.isfinite(sum(values)):
            _refuse_first(not math.isfinite(value) for value in values)
    elif values is not None:
        _refuse_first_array(values[:, None])


def _refuse_first(faulty: Iterable[bool]) -> None:
    """``InvalidInput`` naming the first row that is faulty, if any is."""
    row = next((i for i, fault in enumerate(faulty) if fault), None)
    if row is not None:
        raise _overflow(row)


def _refuse_first_array(matrix: npt.NDArray[np.float64]) -> None:
    """``InvalidInput`` naming the first row of ``(rows, k)`` scores holding a non-finite one."""
    import numpy as np  # an array is here, so numpy is imported already

    finite = np.isfinite(matrix)
    if not finite.all():
        raise _overflow(int(np.argmin(finite.all(axis=1))))


@dataclass(frozen=True)
class Model:
    """A verified, loaded artifact ready to score."""

    manifest: Manifest
    scorer: Scorer
    backend: str
    deferred: DeferredFiles = field(default_factory=DeferredFiles, compare=False)
    """Files read on the first request that needs them (``explain.npz``)."""

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
        """Score validated rows into ``Scores`` (lists, or arrays for a batch).

        Raises ``InvalidInput`` for rows whose scores overflow (finite but huge values).
        """
        scores = self.scorer.score_rows(rows)
        _check_finite(scores)
        return scores

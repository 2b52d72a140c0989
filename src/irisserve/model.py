"""The model contract: rows in, labels and probabilities out, with the manifest beside them.

Two ways in. ``predict`` takes a float64 numpy array and answers numpy arrays (tensors).
``predict_rows`` takes what validation produced, Python lists for a few rows or an array
for many, and answers Python lists (what the JSON codecs write); for lists it never
imports numpy, so a cold single-row request does not pay for it.

Either way, a batch of up to ``PURE_PYTHON_ROWS`` rows is scored in pure Python and a
larger one with numpy, so the same rows get the same answer by every route.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from irisserve.errors import InvalidInput
from irisserve.manifest import Manifest

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "PURE_PYTHON_ROWS",
    "Model",
    "Predictions",
    "RowPredictions",
    "Scorer",
    "SklearnScorer",
]

#: Batches up to this many rows are scored in pure Python: up to here that is no slower
#: than numpy (measured), and it needs no numpy import.
PURE_PYTHON_ROWS = 8


class Scorer(Protocol):
    """Turns rows into labels and class probabilities: numpy arrays, or Python lists."""

    def score(
        self, rows: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]: ...

    def score_rows(
        self, rows: Sequence[Sequence[float]]
    ) -> tuple[list[int], list[list[float]]]: ...


@dataclass(frozen=True)
class SklearnScorer:
    """Scores with a fitted scikit-learn classifier (the ``joblib`` fallback path)."""

    estimator: Any

    def score(
        self, rows: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Delegate to ``predict`` and ``predict_proba``."""
        import numpy as np

        labels = np.asarray(self.estimator.predict(rows), dtype=np.int64)
        return labels, np.asarray(self.estimator.predict_proba(rows), dtype=np.float64)

    def score_rows(self, rows: Sequence[Sequence[float]]) -> tuple[list[int], list[list[float]]]:
        """``score`` on lists (scikit-learn needs numpy anyway)."""
        import numpy as np

        labels, probabilities = self.score(np.array(rows, dtype=np.float64))
        return labels.tolist(), probabilities.tolist()


@dataclass(frozen=True)
class Predictions:
    """The scores of a batch as numpy arrays: one label and one probability row per input row."""

    labels: npt.NDArray[np.int64]
    probabilities: npt.NDArray[np.float64]


@dataclass(frozen=True)
class RowPredictions:
    """The scores of a batch as Python lists: one label and one probability list per row."""

    labels: list[int]
    probabilities: list[list[float]]


def _overflow(row: int) -> InvalidInput:
    return InvalidInput(
        f"row {row}: the feature values are so large that the model's scores overflow; "
        "send values of a realistic magnitude"
    )


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
        """Human-readable class names, indexed by label."""
        return self.manifest.class_names

    def predict(self, rows: npt.NDArray[np.float64]) -> Predictions:
        """Score a validated ``(n, n_features)`` float64 array.

        Raises ``InvalidInput`` for rows whose scores overflow (finite but huge values).
        """
        import numpy as np

        if 0 < len(rows) <= PURE_PYTHON_ROWS:
            scored = self._score_lists(rows.tolist())
            return Predictions(
                labels=np.array(scored.labels, dtype=np.int64),
                probabilities=np.array(scored.probabilities, dtype=np.float64),
            )
        labels, probabilities = self.scorer.score(rows)
        finite = np.isfinite(probabilities).all(axis=1)
        if not finite.all():
            raise _overflow(int(finite.argmin()))
        return Predictions(labels=labels, probabilities=probabilities)

    def predict_rows(self, rows: list[list[float]] | npt.NDArray[np.float64]) -> RowPredictions:
        """Score validated rows (lists of finite floats, or an array) into Python lists."""
        if isinstance(rows, list) and len(rows) <= PURE_PYTHON_ROWS:
            return self._score_lists(rows)
        import numpy as np

        predictions = self.predict(np.asarray(rows, dtype=np.float64))
        return RowPredictions(
            labels=predictions.labels.tolist(),
            probabilities=predictions.probabilities.tolist(),
        )

    def _score_lists(self, rows: list[list[float]]) -> RowPredictions:
        labels, probabilities = self.scorer.score_rows(rows)
        for index, row in enumerate(probabilities):
            if not math.isfinite(sum(row)):
                raise _overflow(index)
        return RowPredictions(labels=labels, probabilities=probabilities)

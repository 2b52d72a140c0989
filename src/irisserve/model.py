"""The model contract: rows in, labels and probabilities out, with the manifest beside them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from irisserve.manifest import Manifest

__all__ = ["Model", "Predictions", "Scorer", "SklearnScorer"]


class Scorer(Protocol):
    """Anything that turns a float64 ``(n, n_features)`` array into labels and probabilities."""

    def score(
        self, rows: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]: ...


@dataclass(frozen=True)
class SklearnScorer:
    """Scores with a fitted scikit-learn classifier (the ``joblib`` fallback path)."""

    estimator: Any

    def score(
        self, rows: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Delegate to ``predict`` and ``predict_proba``."""
        labels = np.asarray(self.estimator.predict(rows), dtype=np.int64)
        return labels, np.asarray(self.estimator.predict_proba(rows), dtype=np.float64)


@dataclass(frozen=True)
class Predictions:
    """The scores of a batch: one label and one probability row per input row."""

    labels: npt.NDArray[np.int64]
    probabilities: npt.NDArray[np.float64]


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
        """Score a validated ``(n, n_features)`` float64 array."""
        labels, probabilities = self.scorer.score(rows)
        return Predictions(labels=labels, probabilities=probabilities)

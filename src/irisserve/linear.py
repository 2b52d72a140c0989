"""A pickle-free export of a fitted multinomial linear classifier, and its numpy scorer.

Training writes ``linear.json`` (coefficients and intercepts as exact JSON floats);
serving scores with numpy alone, performing the same operations in the same order
as scikit-learn's ``LogisticRegression.predict_proba``, so answers stay equal to it
without importing scikit-learn on the cold path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from irisserve.errors import ArtifactIntegrityError

__all__ = ["LINEAR_NAME", "LinearScorer"]

LINEAR_NAME = "linear.json"
_FORMAT = "irisserve.multinomial-linear/1"


@dataclass(frozen=True)
class LinearScorer:
    """softmax(X @ coef.T + intercept), as scikit-learn computes it."""

    coef: npt.NDArray[np.float64]
    intercept: npt.NDArray[np.float64]
    classes: npt.NDArray[np.int64]

    @classmethod
    def from_estimator(cls, estimator: Any) -> LinearScorer:
        """Take the parameters of a fitted multiclass ``LogisticRegression``."""
        coef = np.asarray(estimator.coef_, dtype=np.float64)
        if coef.ndim != 2 or coef.shape[0] < 3:
            raise ValueError("only multinomial models with three or more classes are exportable")
        return cls(
            coef=coef,
            intercept=np.asarray(estimator.intercept_, dtype=np.float64),
            classes=np.asarray(estimator.classes_, dtype=np.int64),
        )

    def to_json(self) -> str:
        """Serialise deterministically; Python's float repr round-trips exactly."""
        payload = {
            "format": _FORMAT,
            "coef": self.coef.tolist(),
            "intercept": self.intercept.tolist(),
            "classes": self.classes.tolist(),
        }
        return json.dumps(payload, indent=2, sort_keys=True, allow_nan=False) + "\n"

    @classmethod
    def from_json(cls, data: bytes) -> LinearScorer:
        """Parse a ``linear.json`` export, refusing anything malformed."""
        try:
            raw = json.loads(data)
            if raw["format"] != _FORMAT:
                raise ValueError(f"unknown format {raw['format']!r}")
            coef = np.asarray(raw["coef"], dtype=np.float64)
            intercept = np.asarray(raw["intercept"], dtype=np.float64)
            classes = np.asarray(raw["classes"], dtype=np.int64)
        except (ValueError, TypeError, KeyError) as exc:
            raise ArtifactIntegrityError(f"{LINEAR_NAME} is malformed: {exc}") from exc
        n_classes = classes.shape[0]
        if coef.ndim != 2 or coef.shape[0] != n_classes or intercept.shape != (n_classes,):
            raise ArtifactIntegrityError(f"{LINEAR_NAME} has inconsistent shapes")
        return cls(coef=coef, intercept=intercept, classes=classes)

    @property
    def n_features(self) -> int:
        """How many input columns the model takes."""
        return int(self.coef.shape[1])

    def score(
        self, rows: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Labels (argmax of the decision function) and class probabilities."""
        scores: npt.NDArray[np.float64] = rows @ self.coef.T + self.intercept
        labels = self.classes.take(scores.argmax(axis=1))
        scores -= scores.max(axis=1).reshape(-1, 1)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1).reshape(-1, 1)
        return labels, scores

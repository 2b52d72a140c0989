"""Linear attributions: ``coefficient * (value - training mean)`` per model column.

In the model's margin (its scores before any link: log-odds for a logistic model), the
baseline is the margin at the training means, ``intercept + sum(coef * mean)``, so the
baseline plus the attributions is ``x @ coef + intercept``.
"""

from __future__ import annotations

from typing import Any

from irisserve.scorers.linear import Linear

__all__ = ["LinearShap"]


class LinearShap:
    """Attributions of a linear model whose columns had ``mean`` in training."""

    def __init__(self, model: Linear, mean: Any) -> None:
        import numpy as np

        self.coef = np.asarray(model.coef, dtype=np.float64)  # (outputs, columns)
        self.mean = np.asarray(mean, dtype=np.float64)
        baseline = np.asarray(model.intercept, dtype=np.float64).copy()
        for j in range(self.coef.shape[1]):  # column by column, as the scorer sums
            baseline += self.coef[:, j] * self.mean[j]
        self.baseline = baseline

    def explain(self, matrix: Any) -> Any:
        """``(columns, outputs, rows)`` attributions of the rows of ``matrix``."""
        centred = (matrix - self.mean).T  # (columns, rows)
        return self.coef.T[:, :, None] * centred[:, None, :]

"""How close a served answer must be to scikit-learn's: within 1e-12 of each output's scale.

A linear score is a sum of products; summed in any order (ours, or whichever the CPU's
BLAS picks), it is within ``n * 2**-53 * m`` of the exact sum, where ``m`` is the
magnitude ``sum_j |x_j * w_j| + |b|``. So two orders can only be promised to agree to
a fraction of ``m``, not of the score itself (which can cancel to almost zero). And a
probability is a number in [0, 1] whose last bits near 0 are rounding noise even in
scikit-learn's own ``1 - p``: it is compared in absolute terms. The scale of each output:

- a probability: ``max(1, m)`` (a score's error moves a probability by at most half of it);
- a decision score or regression value: ``max(|answer|, m)``;

with ``m`` the row's largest magnitude when the model ends in a linear step, else 0.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TOLERANCE", "difference", "magnitudes"]

#: The largest difference from scikit-learn's answer, as a fraction of its scale.
TOLERANCE = 1e-12


def magnitudes(estimator: Any, table: Any) -> Any:
    """Per row of ``table``, the largest ``sum_j |x_j * w_j| + |b|`` of the estimator's
    scores when its last step is a linear model (on that step's input), else None."""
    import numpy as np

    steps = getattr(estimator, "steps", None)
    final = steps[-1][1] if steps else estimator
    coef = getattr(final, "coef_", None)
    if coef is None:
        return None
    inputs = estimator[:-1].transform(table) if steps else np.asarray(table, dtype=np.float64)
    weights = np.abs(np.atleast_2d(np.asarray(coef, dtype=np.float64)))
    intercept = np.abs(np.atleast_1d(np.asarray(getattr(final, "intercept_", 0.0), np.float64)))
    return (np.asarray(abs(inputs) @ weights.T) + intercept).max(axis=1)


def difference(name: str, actual: Any, expected: Any, magnitude: Any = None) -> float:
    """The largest ``|actual - expected|`` over its scale, for the output ``name``
    (``probabilities``, ``decision`` or ``values``); inf where only one is NaN or the
    shapes differ."""
    import numpy as np

    rows = len(expected)
    a = np.asarray(actual, dtype=np.float64).reshape(rows, -1)
    e = np.asarray(expected, dtype=np.float64).reshape(rows, -1)
    if a.shape != e.shape:
        return float("inf")
    scale = np.ones_like(e) if name == "probabilities" else np.maximum(np.abs(a), np.abs(e))
    if magnitude is not None:
        scale = np.maximum(scale, np.asarray(magnitude, dtype=np.float64).reshape(rows, 1))
    same = (a == e) | (np.isnan(a) & np.isnan(e))
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = np.abs(a - e) / scale
    scaled = np.where(same, 0.0, np.nan_to_num(scaled, nan=np.inf))
    return float(scaled.max(initial=0.0))

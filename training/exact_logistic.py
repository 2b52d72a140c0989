"""The exact optimum of scikit-learn's multinomial logistic objective, the same on every CPU.

scikit-learn's ``lbfgs`` stops within ``tol`` of the optimum, at a point that depends on
the BLAS kernels OpenBLAS picks for the machine (and scipy's L-BFGS-B runs on BLAS too):
the same data gives coefficients that differ around the sixth digit from one CPU to
another. The optimum itself is unique, so this module computes it with nothing but IEEE
``+ - * /`` in a fixed order (CPython never fuses them), ``math.fsum`` and an ``exp`` of
its own — no BLAS, no libm, whose ``exp`` picks FMA code by CPU. Training then hands the
result to scikit-learn as a warm start, where ``lbfgs`` finds the gradient already below
``tol`` and keeps it unchanged.

The objective is scikit-learn's (``sklearn.linear_model._linear_loss``)::

    mean_i [logsumexp(W x_i + b) - (W x_i + b)[y_i]] + 1 / (2 C n) * ||W||^2

with ``b`` unpenalised. ``b`` is determined up to a constant shift; like ``lbfgs`` started
from zeros, the solution keeps ``sum(b) == 0``. With two classes scikit-learn fits one
score instead (the binomial loss)::

    mean_i [log(1 + exp(w x_i + b)) - y_i (w x_i + b)] + 1 / (2 C n) * ||w||^2
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "exact_exp",
    "fit_at_optimum",
    "fit_binary",
    "fit_multinomial",
    "fit_pipeline_at_optimum",
]

_LN2_HI = 6.93147180369123816490e-01  # ln 2 with trailing zero bits: k * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
#: 1/k! for k = 13..0: Horner's scheme for exp(r) on |r| <= ln2 / 2.
_TAYLOR = tuple(1.0 / math.factorial(k) for k in range(13, -1, -1))
_MAX_ITERATIONS = 100
_CONVERGED = 1e-12


def exact_exp(x: float) -> float:
    """``exp(x)`` to about one ulp, computed identically on every IEEE-754 machine."""
    k = round(x * _INV_LN2)
    r = (x - k * _LN2_HI) - k * _LN2_LO
    value = 0.0
    for coefficient in _TAYLOR:
        value = value * r + coefficient
    return math.ldexp(value, k)


def _probabilities(scores: list[float]) -> list[float]:
    top = max(scores)
    exps = [exact_exp(s - top) for s in scores]
    total = math.fsum(exps)
    return [e / total for e in exps]


def _solve(matrix: list[list[float]], rhs: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (the first largest pivot wins ties)."""
    n = len(rhs)
    a = [[*row, value] for row, value in zip(matrix, rhs, strict=True)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        a[col], a[pivot] = a[pivot], a[col]
        for r in range(col + 1, n):
            factor = a[r][col] / a[col][col]
            a[r] = [x - factor * y for x, y in zip(a[r], a[col], strict=True)]
    solution = [0.0] * n
    for r in range(n - 1, -1, -1):
        known = math.fsum(a[r][c] * solution[c] for c in range(r + 1, n))
        solution[r] = (a[r][n] - known) / a[r][r]
    return solution


def _newton_step(
    rows: Sequence[Sequence[float]],
    labels: Sequence[int],
    theta: list[float],
    n_classes: int,
    l2: float,
) -> list[float]:
    """The Newton direction at ``theta`` = W row by row, then b (K * (p + 1) values)."""
    n, p, k = len(rows), len(rows[0]), n_classes
    weights = [theta[c * p : (c + 1) * p] for c in range(k)]
    intercept = theta[k * p :]
    features = [[*row, 1.0] for row in rows]  # 1.0: the intercept's "feature"
    probs = []
    for row in rows:
        scores = [
            math.fsum([*(w * x for w, x in zip(weights[c], row, strict=True)), intercept[c]])
            for c in range(k)
        ]
        probs.append(_probabilities(scores))
    size = k * (p + 1)
    slots = [(c, j) for c in range(k) for j in range(p)] + [(c, p) for c in range(k)]
    samples = list(zip(probs, features, labels, strict=True))
    gradient = [
        math.fsum((prob[c] - (c == label)) * f[j] for prob, f, label in samples) / n
        for c, j in slots
    ]
    hessian = [[0.0] * size for _ in range(size)]
    for a, (c, j) in enumerate(slots):
        for b in range(a, size):
            d, m = slots[b]
            value = math.fsum(
                prob[c] * ((c == d) - prob[d]) * (f[j] * f[m]) for prob, f, _ in samples
            )
            hessian[a][b] = hessian[b][a] = value / n
    for a in range(k * p):
        gradient[a] += l2 * theta[a]
        hessian[a][a] += l2
    # b is free along (1, ..., 1), where the loss is flat: pin that direction to zero.
    for a in range(k * p, size):
        for b in range(k * p, size):
            hessian[a][b] += 1.0
    return _solve(hessian, [-g for g in gradient])


def fit_multinomial(
    rows: Sequence[Sequence[float]], labels: Sequence[int], n_classes: int, c: float
) -> tuple[list[list[float]], list[float]]:
    """The coefficients (one row per class) and intercepts minimising the objective.

    ``labels`` are class indices ``0..n_classes-1``. Newton's method from zeros, stopped
    after the first step below a relative 1e-12 (or after a fixed number of steps).
    """
    p = len(rows[0])
    l2 = 1.0 / (c * len(rows))
    theta = [0.0] * (n_classes * (p + 1))
    for _ in range(_MAX_ITERATIONS):
        step = _newton_step(rows, labels, theta, n_classes, l2)
        theta = [t + s for t, s in zip(theta, step, strict=True)]
        if _converged(step, theta):
            break
    weights = [theta[i * p : (i + 1) * p] for i in range(n_classes)]
    return weights, theta[n_classes * p :]


def _converged(step: list[float], theta: list[float]) -> bool:
    # Newton converges quadratically: after a step this small, the next ones only move
    # the last bits back and forth.
    return max(map(abs, step)) <= _CONVERGED * max(1.0, *map(abs, theta))


def _binary_step(
    features: Sequence[Sequence[float]], labels: Sequence[int], theta: list[float], l2: float
) -> list[float]:
    """The Newton direction at ``theta`` = w, then b, for the binomial loss."""
    n, size = len(features), len(theta)
    probs = [
        1.0 / (1.0 + exact_exp(-math.fsum(t * f for t, f in zip(theta, row, strict=True))))
        for row in features
    ]
    samples = list(zip(probs, features, labels, strict=True))
    gradient = [math.fsum((q - y) * f[j] for q, f, y in samples) / n for j in range(size)]
    hessian = [[0.0] * size for _ in range(size)]
    for a in range(size):
        for b in range(a, size):
            value = math.fsum(q * (1.0 - q) * (f[a] * f[b]) for q, f, _ in samples)
            hessian[a][b] = hessian[b][a] = value / n
    for a in range(size - 1):  # the intercept, last, is not penalised
        gradient[a] += l2 * theta[a]
        hessian[a][a] += l2
    return _solve(hessian, [-g for g in gradient])


def fit_binary(
    rows: Sequence[Sequence[float]], labels: Sequence[int], c: float
) -> tuple[list[float], float]:
    """The coefficients and intercept minimising the binomial objective (labels 0 or 1),
    by Newton's method from zeros as ``fit_multinomial``."""
    features = [[*row, 1.0] for row in rows]  # 1.0: the intercept's "feature"
    l2 = 1.0 / (c * len(rows))
    theta = [0.0] * len(features[0])
    for _ in range(_MAX_ITERATIONS):
        step = _binary_step(features, labels, theta, l2)
        theta = [t + s for t, s in zip(theta, step, strict=True)]
        if _converged(step, theta):
            break
    return theta[:-1], theta[-1]


def fit_at_optimum(estimator: Any, rows: Any, target: npt.NDArray[Any]) -> Any:
    """Fit a ``LogisticRegression`` (binary or multinomial) at its objective's exact optimum.

    scikit-learn's own ``fit`` runs from that point as a warm start; ``lbfgs`` then stops
    before its first iteration and keeps the coefficients, which this checks. ``rows``
    may be sparse (what a ``ColumnTransformer`` gives); scikit-learn fits the same rows.
    """
    classes, labels = np.unique(target, return_inverse=True)
    if not estimator.fit_intercept or estimator.class_weight is not None:
        raise ValueError("only unweighted models with an intercept are supported")
    dense = rows.toarray() if hasattr(rows, "toarray") else np.asarray(rows, dtype=np.float64)
    if len(classes) == 2:
        coef, intercept = fit_binary(dense.tolist(), labels.tolist(), float(estimator.C))
        weights, intercepts = [coef], [intercept]
    else:
        weights, intercepts = fit_multinomial(
            dense.tolist(), labels.tolist(), len(classes), float(estimator.C)
        )
    warm_start = estimator.warm_start
    estimator.set_params(warm_start=True)
    estimator.coef_ = np.array(weights, dtype=np.float64)
    estimator.intercept_ = np.array(intercepts, dtype=np.float64)
    estimator.fit(rows, target)
    estimator.set_params(warm_start=warm_start)
    if not (
        np.array_equal(estimator.coef_, weights)
        and np.array_equal(estimator.intercept_, intercepts)
    ):
        raise RuntimeError("lbfgs moved away from the exact optimum; the fit is not reproducible")
    return estimator


def fit_pipeline_at_optimum(pipeline: Any, x: Any, y: Any) -> Any:
    """Fit a ``Pipeline`` ending in a ``LogisticRegression``: its steps as they fit, then
    the model at the exact optimum on what they give (``fit_at_optimum``)."""
    fit_at_optimum(pipeline[-1], pipeline[:-1].fit_transform(x, y), np.asarray(y))
    return pipeline

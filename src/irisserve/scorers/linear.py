"""Linear models: ``LogisticRegression`` (binary and multinomial), ``LinearRegression``,
``Ridge``, ``Lasso``, ``ElasticNet``, ``SGDRegressor``, and the decision scores of
``SGDClassifier``, ``LinearSVC`` and ``RidgeClassifier``.

A score is ``x[0]*w[0]``, then ``+ x[j]*w[j]`` column by column, then ``+ intercept``,
the same on every CPU; scikit-learn's BLAS dot product sums in an order that depends on
the CPU and the batch, so scores agree to the last bits (within 1e-12 of the terms summed,
``irisserve.packaging.tolerance``, checked before an export is written), and a sparse input
(one-hot columns) is summed in exactly this order by scipy.
"""

from __future__ import annotations

from typing import Any

from irisserve.scorers._link import argmax, expit, softmax, total
from irisserve.scorers._ops import Column
from irisserve.scorers._spec import NotExportable, floats, need
from irisserve.scorers.output import Output

__all__ = ["Linear", "export_linear", "load_linear"]

_REGRESSORS = {"LinearRegression", "Ridge", "Lasso", "ElasticNet", "SGDRegressor"}
_CLASSIFIERS = {"LogisticRegression", "SGDClassifier", "LinearSVC", "RidgeClassifier"}


def _link(estimator: Any, n_classes: int) -> str:
    name = type(estimator).__name__
    if name == "LogisticRegression":
        return "logistic" if n_classes == 2 else "softmax"
    if name == "SGDClassifier" and estimator.loss == "log_loss":
        return "logistic" if n_classes == 2 else "ovr"
    if hasattr(estimator, "predict_proba") and name == "SGDClassifier":
        raise NotExportable(f"SGDClassifier: loss={estimator.loss!r} probabilities")
    return "decision"


def export_linear(estimator: Any) -> dict[str, Any] | None:
    """The JSON spec of a linear model, or None if it is not one."""
    import numpy as np

    name = type(estimator).__name__
    if name not in _REGRESSORS | _CLASSIFIERS:
        return None
    coef = np.asarray(estimator.coef_, dtype=np.float64)
    intercept = np.atleast_1d(np.asarray(estimator.intercept_, dtype=np.float64))
    if name in _REGRESSORS:
        if coef.ndim != 1 or intercept.shape != (1,):
            raise NotExportable(f"{name}: only single-target models are exportable")
        link, n_classes, coef = "identity", 0, coef.reshape(1, -1)
    else:
        n_classes = len(estimator.classes_)
        link = _link(estimator, n_classes)
    return {
        "kind": "linear",
        "link": link,
        "classes": n_classes,
        "coef": coef.tolist(),
        "intercept": np.broadcast_to(intercept, (coef.shape[0],)).tolist(),
    }


class Linear:
    """``X @ coef.T + intercept``, accumulated column by column, then the link."""

    def __init__(self, coef: list[list[float]], intercept: list[float], link: str) -> None:
        self.coef, self.intercept, self.link = coef, intercept, link
        #: Per score: the first weight, the others, the intercept (the widths checked at load).
        self._terms = [
            (weights[0], weights[1:], b) for weights, b in zip(coef, intercept, strict=True)
        ]

    def predict(self, columns: list[Column], ops: Any) -> Output:
        """Scores through the link."""
        x = [ops.number(c) for c in columns]
        first, rest = x[0], x[1:]
        scores = []
        for weight, weights, intercept in self._terms:
            score = first * weight
            for column, other in zip(rest, weights, strict=False):
                score = score + column * other
            scores.append(score + intercept)
        if self.link == "identity":
            return Output(values=scores[0])
        if len(scores) == 1:
            label = ops.where(scores[0] > 0, 1, 0)
            if self.link == "decision":
                return Output(labels=label, decision=scores)
            positive = expit(scores[0], ops)
            return Output(labels=label, probabilities=[1 - positive, positive])
        label = argmax(scores, ops)
        if self.link == "decision":
            return Output(labels=label, decision=scores)
        if self.link == "softmax":
            return Output(labels=label, probabilities=softmax(scores, ops))
        probabilities = [expit(s, ops) for s in scores]  # one-vs-rest, normalised
        denominator = total(probabilities)
        zero = denominator == 0
        safe = ops.where(zero, 1.0, denominator)
        uniform = 1.0 / len(scores)
        return Output(
            labels=label,
            probabilities=[ops.where(zero, uniform, p / safe) for p in probabilities],
        )


def load_linear(spec: dict[str, Any], width: int) -> Linear:
    """The linear scorer a spec describes, for ``width`` input columns."""
    need(isinstance(spec["coef"], list) and len(spec["coef"]) >= 1, "coef must be rows")
    coef = [floats(row, "coef", width) for row in spec["coef"]]
    intercept = floats(spec["intercept"], "intercept", len(coef))
    link = spec["link"]
    need(link in ("identity", "logistic", "softmax", "ovr", "decision"), "unknown link")
    need(width >= 1, "a linear model needs at least one input column")
    classes = spec["classes"]
    need(type(classes) is int, "classes must be an integer")
    expected = 1 if link == "identity" or classes == 2 else classes
    need(len(coef) == expected, "coef must hold one row per score")
    return Linear(coef, intercept, link)

"""A pickle-free export of a fitted multinomial linear classifier, and its two scorers.

Training writes ``linear.json`` (coefficients and intercepts as exact JSON floats).
Serving reads it with the standard library alone, then scores:

- ``score_rows`` (pure Python, for small batches): no numpy import on a cold start;
- ``score`` (numpy, for large batches).

Both perform the same IEEE operations in the same order, so a row's answer does not
depend on the batch it came in: each class score is ``x[0]*w[0]``, then ``+ x[j]*w[j]``
column by column, then ``+ intercept``; the softmax subtracts the row's largest score,
takes ``math.exp`` of each difference (numpy's SIMD ``exp`` differs by CPU), adds the
exponentials left to right and divides. That is the order of scikit-learn's
``LogisticRegression.predict_proba`` up to its BLAS dot product, so the probabilities
agree with scikit-learn's to a relative 1e-12 and the labels are identical.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from irisserve.errors import ArtifactIntegrityError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["LINEAR_NAME", "LinearScorer"]

LINEAR_NAME = "linear.json"
_FORMAT = "irisserve.multinomial-linear/1"


def _numbers(value: Any, where: str) -> tuple[float, ...]:
    if not isinstance(value, list) or not all(
        type(v) in (int, float) and math.isfinite(v) for v in value
    ):
        raise ValueError(f"{where} must be a list of finite numbers")
    return tuple(float(v) for v in value)


class LinearScorer(NamedTuple):
    """softmax(X @ coef.T + intercept), as scikit-learn computes it.

    ``coef`` holds one row of weights per class, ``intercept`` one value per
    class and ``classes`` the label of each class, all as plain Python numbers
    (immutable: a NamedTuple, which a cold start defines faster than a dataclass).
    """

    coef: tuple[tuple[float, ...], ...]
    intercept: tuple[float, ...]
    classes: tuple[int, ...]

    @classmethod
    def from_estimator(cls, estimator: Any) -> LinearScorer:
        """Take the parameters of a fitted multiclass ``LogisticRegression``."""
        import numpy as np

        coef = np.asarray(estimator.coef_, dtype=np.float64)
        if coef.ndim != 2 or coef.shape[0] < 3:
            raise ValueError("only multinomial models with three or more classes are exportable")
        return cls(
            coef=tuple(tuple(row) for row in coef.tolist()),
            intercept=tuple(np.asarray(estimator.intercept_, dtype=np.float64).tolist()),
            classes=tuple(np.asarray(estimator.classes_, dtype=np.int64).tolist()),
        )

    def to_json(self) -> str:
        """Serialise deterministically; Python's float repr round-trips exactly."""
        payload = {
            "format": _FORMAT,
            "coef": [list(row) for row in self.coef],
            "intercept": list(self.intercept),
            "classes": list(self.classes),
        }
        return json.dumps(payload, indent=2, sort_keys=True, allow_nan=False) + "\n"

    @classmethod
    def from_json(cls, data: bytes) -> LinearScorer:
        """Parse a ``linear.json`` export, refusing anything malformed."""
        try:
            raw = json.loads(data)
            if raw["format"] != _FORMAT:
                raise ValueError(f"unknown format {raw['format']!r}")
            if not isinstance(raw["coef"], list):
                raise ValueError("coef must be a list of rows")
            coef = tuple(_numbers(row, "coef rows") for row in raw["coef"])
            intercept = _numbers(raw["intercept"], "intercept")
            classes = raw["classes"]
            if not isinstance(classes, list) or not all(type(c) is int for c in classes):
                raise ValueError("classes must be a list of integers")
        except (ValueError, TypeError, KeyError) as exc:
            raise ArtifactIntegrityError(f"{LINEAR_NAME} is malformed: {exc}") from exc
        n_classes = len(classes)
        widths = {len(row) for row in coef}
        if len(coef) != n_classes or len(intercept) != n_classes or len(widths) != 1:
            raise ArtifactIntegrityError(f"{LINEAR_NAME} has inconsistent shapes")
        return cls(coef=coef, intercept=intercept, classes=tuple(classes))

    @property
    def n_features(self) -> int:
        """How many input columns the model takes."""
        return len(self.coef[0])

    def score(
        self, rows: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Labels and class probabilities of a float64 ``(n, n_features)`` array, with numpy.

        Row for row bit-identical to ``score_rows``.
        """
        import numpy as np  # deferred: only batches too large for score_rows need it

        columns = np.asarray(rows, dtype=np.float64).T
        scores = np.empty((len(self.coef), columns.shape[1]), dtype=np.float64)
        # A row whose scores overflow comes out as NaN, silently: the model layer refuses it.
        with np.errstate(over="ignore", invalid="ignore"):
            for score, weights, intercept in zip(scores, self.coef, self.intercept, strict=True):
                np.multiply(columns[0], weights[0], out=score)
                for column, weight in zip(columns[1:], weights[1:], strict=True):
                    np.add(score, column * weight, out=score)
                np.add(score, intercept, out=score)
            labels = np.array(self.classes, dtype=np.int64).take(scores.argmax(axis=0))
            scores -= scores.max(axis=0)
            exps = np.fromiter(map(math.exp, scores.ravel().tolist()), np.float64, scores.size)
            exps = exps.reshape(scores.shape)
            total = exps[0].copy()
            for column in exps[1:]:
                total += column
            exps /= total
        return labels, exps.T.copy()

    def score_rows(self, rows: Sequence[Sequence[float]]) -> tuple[list[int], list[list[float]]]:
        """``score`` in pure Python, for a few rows: Python lists in, Python lists out."""
        coef, intercept, classes, exp = self.coef, self.intercept, self.classes, math.exp
        labels, probabilities = [], []
        for row in rows:
            scores = []
            for w, b in zip(coef, intercept, strict=True):
                total = row[0] * w[0]
                for j in range(1, len(w)):
                    total += row[j] * w[j]
                scores.append(total + b)
            top = max(scores)
            labels.append(classes[scores.index(top)])
            exps = [exp(s - top) for s in scores]
            total = exps[0]
            for e in exps[1:]:
                total += e
            probabilities.append([e / total for e in exps])
        return labels, probabilities

"""The packaging check: does an export answer like its estimator, row for row?

The packaging command scores the training rows and random rows spanning the schema both
ways and writes the export only when ``Agreement.exact``; otherwise the model is served by
scikit-learn and the manifest says why (``Agreement.reason``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from irisserve.artifact.manifest import sha256_bytes
from irisserve.packaging.tolerance import TOLERANCE, difference, magnitudes
from irisserve.schema import PURE_PYTHON_ROWS
from irisserve.scorers.contract import Scores
from irisserve.scorers.fast import FastScorer, NotExportable, export, load

__all__ = [
    "TOLERANCE",
    "UNSEEN",
    "Agreement",
    "agreement",
    "checked_export",
    "random_rows",
    "scaled_difference",
    "sklearn_table",
]

#: Each score a scorer may answer, and the estimator's method that answers it.
_ANSWERS = (
    ("probabilities", "predict_proba"),
    ("decision", "decision_function"),
    ("values", "predict"),
)
#: The category ``random_rows`` puts where an unseen category is allowed.
UNSEEN = "irisserve-unseen-category"


@dataclass(frozen=True)
class Agreement:
    """How an export's answers compare with its estimator's on the checked rows."""

    rows_checked: int
    labels_equal: bool
    #: The largest difference from scikit-learn's answers, as a fraction of their scale
    #: (``irisserve.packaging.tolerance``).
    max_difference: float
    batch_invariant: bool
    tolerance: float = TOLERANCE

    @property
    def exact(self) -> bool:
        """Whether the export may serve the model."""
        return self.reason is None

    @property
    def reason(self) -> str | None:
        """Why the export may not serve the model, or None."""
        if not self.labels_equal:
            return "its labels differ from scikit-learn's"
        if not self.max_difference <= self.tolerance:
            return (
                f"its scores differ from scikit-learn's by {self.max_difference:.3g} "
                f"of their scale, more than {self.tolerance:g}"
            )
        if not self.batch_invariant:
            return "a row's answer depends on the batch it is scored in"
        return None

    def as_manifest(self) -> dict[str, Any]:
        """The figures the manifest records."""
        return asdict(self) | {"exact": self.exact, "reason": self.reason}


def sklearn_table(rows: list[list[Any]]) -> Any:
    """The rows as scikit-learn takes them: float64 when every cell is a number or None,
    else an object array; a missing cell is NaN either way."""
    import numpy as np

    numeric = all(c is None or type(c) in (int, float) for row in rows for c in row)
    cells = [[math.nan if c is None else c for c in row] for row in rows]
    return np.array(cells, dtype=np.float64 if numeric else object)


def random_rows(
    training: list[list[Any]], count: int, seed: int = 0, unseen: frozenset[int] = frozenset()
) -> list[list[Any]]:
    """``count`` rows spanning the training rows' columns: a numeric column uniform over
    its range widened by the range on each side, a categorical one drawn from its
    categories (plus ``UNSEEN`` for the columns in ``unseen``); a missing value (None)
    in a column where training had one."""
    import numpy as np

    rng = np.random.default_rng(seed)
    columns = []
    for index, column in enumerate(zip(*training, strict=True)):
        present = [c for c in column if c is not None]
        if all(type(c) in (int, float) for c in present) and present:
            low, high = min(present), max(present)
            drawn: list[Any] = rng.uniform(2 * low - high, 2 * high - low, count).tolist()
        else:
            categories = sorted(set(present), key=repr) + ([UNSEEN] if index in unseen else [])
            drawn = [categories[i] for i in rng.integers(0, len(categories), count)]
        if len(present) < len(column):
            drawn = [None if m else c for c, m in zip(drawn, rng.random(count) < 0.1, strict=True)]
        columns.append(drawn)
    return [list(row) for row in zip(*columns, strict=True)]


def _in_small_batches(scorer: FastScorer, rows: list[list[Any]]) -> Scores:
    parts = [
        scorer.score_rows(rows[i : i + PURE_PYTHON_ROWS])
        for i in range(0, len(rows), PURE_PYTHON_ROWS)
    ]
    fields = {}
    for name in ("labels", "probabilities", "decision", "values"):
        values = [getattr(p, name) for p in parts]
        fields[name] = None if values[0] is None else [v for part in values for v in part]
    return Scores(**fields)


def scaled_difference(estimator: Any, scores: Scores, table: Any) -> float:
    """The largest difference of ``scores`` from the estimator's own on ``table``, as a
    fraction of each output's scale (``irisserve.packaging.tolerance``)."""
    magnitude = magnitudes(estimator, table)
    differences = [0.0]
    for name, method in _ANSWERS:
        served = getattr(scores, name)
        if served is not None:
            expected = getattr(estimator, method)(table)
            differences.append(difference(name, served, expected, magnitude))
    return max(differences)


def agreement(
    estimator: Any, scorer: FastScorer, rows: list[list[Any]], table: Any = None
) -> Agreement:
    """Score ``rows`` with the export (as one batch and in small ones) and ``table`` (the
    same rows as scikit-learn takes them; by default ``sklearn_table(rows)``) with the
    estimator, and compare."""
    import numpy as np

    table = sklearn_table(rows) if table is None else table
    scores = scorer.score_rows(rows)
    labels_equal = True
    if scores.labels is not None:
        labels = np.asarray(estimator.classes_)[scores.labels]
        labels_equal = bool(np.array_equal(labels, estimator.predict(table)))
    return Agreement(
        rows_checked=len(rows),
        labels_equal=labels_equal,
        max_difference=scaled_difference(estimator, scores, table),
        batch_invariant=_in_small_batches(scorer, rows) == scores,
    )


def checked_export(
    estimator: Any, rows: list[list[Any]], table: Any = None
) -> tuple[dict[str, bytes], dict[str, Any]]:
    """The export files to write beside the model (none unless they agree with the
    estimator on ``rows``: the training rows and ``random_rows``), and the manifest's
    record of why: whether the export serves the model, the reason if not, the agreement
    figures and each file's sha256."""
    try:
        files = export(estimator)
    except NotExportable as exc:
        return {}, {"served": False, "reason": str(exc)}
    result = agreement(estimator, load(files), rows, table)
    record = {"served": result.exact} | result.as_manifest()
    if not result.exact:
        return {}, record
    return files, record | {"files": {name: sha256_bytes(data) for name, data in files.items()}}

"""The model contract: validated rows in, a batch of scores out, with the manifest beside them.

A scorer (``Scorer``) turns rows of ``Cell`` values into ``Scores``: labels (indices into
the task's classes) with probabilities or decision scores, or regression values. The
``Model`` wraps a scorer with its manifest and refuses rows whose scores overflow.

``Model.predict_rows`` takes what validation produced, Python lists for a few rows or
(all-numeric schemas only) a float64 array for many, and answers Python lists (what the
JSON codecs write); ``Model.predict`` answers numpy arrays (the V2 tensors).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from irisserve.errors import InvalidInput
from irisserve.manifest import CLASSIFICATION, NUMERIC, Feature, Manifest, Task

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from irisserve.schema import InputSchema

__all__ = [
    "PURE_PYTHON_ROWS",
    "Cell",
    "Model",
    "Predictions",
    "Scorer",
    "Scores",
    "SklearnScorer",
]

#: Batches up to this many rows stay Python lists: up to here that is no slower than
#: numpy (measured), and it needs no numpy import.
PURE_PYTHON_ROWS = 8

Cell = float | int | str | None
"""One validated input value, in schema (``feature_names_in_``) order: a finite float for a
numeric feature; the category as trained (str, or an int/float for numeric categories) for a
categorical one; None for a missing value (only where the schema allows it)."""


@dataclass(frozen=True)
class Scores:
    """A scorer's answer for a batch, one entry per row, as Python lists."""

    labels: list[int] | None = None
    """Classification: index into the task's classes."""
    probabilities: list[list[float]] | None = None
    """``predict_proba``, one list per row."""
    decision: list[list[float]] | None = None
    """``decision_function`` when there is no ``predict_proba``; always 2-D (binary: 1 column)."""
    values: list[float] | None = None
    """Regression."""

    def __len__(self) -> int:
        column = self.labels if self.labels is not None else self.values
        return len(column or ())

    def row(self, index: int) -> Scores:
        """The answer for one row of the batch, as a batch of one."""

        def one(column: list[Any] | None) -> list[Any] | None:
            return None if column is None else [column[index]]

        return Scores(
            labels=one(self.labels),
            probabilities=one(self.probabilities),
            decision=one(self.decision),
            values=one(self.values),
        )


class Scorer(Protocol):
    """Scores validated rows, keeping three rules.

    - Batch invariance: row i's answer is bit-identical whatever batch it comes in
      (``score_rows(rows)`` against ``score_rows([rows[i]])``) and whichever input form.
    - Exactness: labels equal scikit-learn's; probabilities, decision scores and values
      within 1e-12 relative of scikit-learn's.
    - Labels are indices into the task's classes; a row whose scores overflow comes back
      non-finite, and the ``Model`` refuses it.
    """

    def score_rows(self, rows: Sequence[Sequence[Cell]] | npt.NDArray[np.float64]) -> Scores:
        """Score validated rows. ``rows`` is a list of row lists, or — only when every feature
        is numeric — a float64 ``(n, k)`` array with NaN for a missing value. Both forms of the
        same rows must give bit-identical answers."""


@dataclass(frozen=True)
class SklearnScorer:
    """Scores with a fitted scikit-learn estimator or pipeline (the joblib and skops path).

    Rows become the array scikit-learn was fitted on: float64 when every feature is
    numeric, else an object array (numbers as floats, categories as trained), NaN for a
    missing value, as pandas reads a missing cell. Named columns (a ``ColumnTransformer``
    fitted on a DataFrame) are found by position, so serving needs no pandas.
    """

    estimator: Any
    features: tuple[Feature, ...]
    task: Task

    def __post_init__(self) -> None:
        # Rows arrive as arrays by position; an estimator fitted on a DataFrame warns about
        # that on every call, though it finds its named columns by position all the same.
        warnings.filterwarnings("ignore", message="X does not have valid feature names")

    @cached_property
    def _threads(self) -> Any:
        from threadpoolctl import ThreadpoolController  # a scikit-learn dependency

        return ThreadpoolController()

    def _array(self, rows: Sequence[Sequence[Cell]] | npt.NDArray[np.float64]) -> Any:
        import numpy as np

        nan = float("nan")
        if all(feature.type == NUMERIC for feature in self.features):
            if isinstance(rows, np.ndarray):
                return rows
            return np.array(
                [[nan if value is None else value for value in row] for row in rows],
                dtype=np.float64,
            ).reshape(len(rows), len(self.features))
        array = np.empty((len(rows), len(self.features)), dtype=object)
        for i, row in enumerate(rows):
            array[i] = [nan if value is None else value for value in row]
        return array

    def _score_one(self, x: Any) -> tuple[Any, Any]:
        """The prediction of a one-row array, and its scores as the task says (or None)."""
        method = self.task.scores if self.task.type == CLASSIFICATION else None
        return self.estimator.predict(x), None if method is None else getattr(
            self.estimator, method
        )(x)

    def score_rows(self, rows: Sequence[Sequence[Cell]] | npt.NDArray[np.float64]) -> Scores:
        """``predict``, and ``predict_proba`` or ``decision_function`` as the task says.

        One call per row: scikit-learn's BLAS kernels sum in an order that depends on the
        batch's shape, so this is what keeps a row's answer independent of its batch (the
        cost of correctness first; pickle-free scorers are the fast path).
        """
        import numpy as np

        x = self._array(rows)
        # One thread: starting OpenMP or BLAS threads for each row costs far more than the row.
        with self._threads.limit(limits=1):
            answers = [self._score_one(x[i : i + 1]) for i in range(len(x))]
        predicted = np.concatenate([np.asarray(p).reshape(-1) for p, _ in answers])
        if self.task.type != CLASSIFICATION:
            return Scores(values=predicted.astype(np.float64).tolist())
        labels = np.searchsorted(self.estimator.classes_, predicted).tolist()
        if self.task.scores is None:
            return Scores(labels=labels)
        scores = np.vstack([np.asarray(s, dtype=np.float64).reshape(1, -1) for _, s in answers])
        if self.task.scores == "predict_proba":
            return Scores(labels=labels, probabilities=scores.tolist())
        return Scores(labels=labels, decision=scores.tolist())


@dataclass(frozen=True)
class Predictions:
    """The scores of a batch as numpy arrays (the V2 tensors), by the model's task:
    labels with probabilities or decision scores, or regression values."""

    labels: npt.NDArray[np.int64] | None = None
    probabilities: npt.NDArray[np.float64] | None = None
    decision: npt.NDArray[np.float64] | None = None
    values: npt.NDArray[np.float64] | None = None


def _overflow(row: int) -> InvalidInput:
    return InvalidInput(
        f"row {row}: the feature values are so large that the model's scores overflow; "
        "send values of a realistic magnitude"
    )


def _check_finite(scores: Scores) -> None:
    """Refuse the first row whose scores are not finite (finite but huge inputs)."""
    for column in (scores.probabilities, scores.decision):
        if column and not math.isfinite(sum(map(sum, column))):  # one pass when all is well
            raise _overflow(next(i for i, row in enumerate(column) if not math.isfinite(sum(row))))
    values = scores.values
    if values and not math.isfinite(sum(values)):
        raise _overflow(next(i for i, value in enumerate(values) if not math.isfinite(value)))


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
        from irisserve.schema import InputSchema  # irisserve.schema imports this module

        return InputSchema(self.features)

    def predict_rows(self, rows: Sequence[Sequence[Cell]] | npt.NDArray[np.float64]) -> Scores:
        """Score validated rows into Python lists.

        Raises ``InvalidInput`` for rows whose scores overflow (finite but huge values).
        """
        scores = self.scorer.score_rows(rows)
        _check_finite(scores)
        return scores

    def predict(self, rows: Sequence[Sequence[Cell]] | npt.NDArray[np.float64]) -> Predictions:
        """``predict_rows`` into numpy arrays (the V2 tensors).

        A scorer with a ``score_array`` method (numpy in, ``Predictions`` out, the same
        answers as ``score_rows``) scores an array without the round trip through lists.
        """
        import numpy as np

        score_array = getattr(self.scorer, "score_array", None)
        if score_array is not None and not isinstance(rows, Sequence):
            predictions: Predictions = score_array(rows)
            for scores_array in (predictions.probabilities, predictions.decision):
                if scores_array is not None and not np.isfinite(scores_array).all():
                    raise _overflow(int(np.isfinite(scores_array).all(axis=1).argmin()))
            return predictions
        scores = self.predict_rows(rows)
        n = len(rows)

        def matrix(column: list[list[float]] | None) -> npt.NDArray[np.float64] | None:
            return None if column is None else np.array(column, dtype=np.float64).reshape(n, -1)

        return Predictions(
            labels=None if scores.labels is None else np.array(scores.labels, dtype=np.int64),
            probabilities=matrix(scores.probabilities),
            decision=matrix(scores.decision),
            values=None if scores.values is None else np.array(scores.values, dtype=np.float64),
        )

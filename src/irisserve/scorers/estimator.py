"""The scikit-learn backend: score with a fitted estimator or pipeline (joblib or skops)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from irisserve.artifact.manifest import CLASSIFICATION, NUMERIC, Feature, Task
from irisserve.scorers.contract import Scores

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from irisserve.schema import Cell

__all__ = ["SklearnScorer"]


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

"""The scorer contract: validated rows in, a batch of scores out.

A scorer (``Scorer``) turns rows of ``Cell`` values into ``Scores``: labels (indices into
the task's classes) with probabilities or decision scores, or regression values.

``Scores`` is the one result type. Each column is a Python list, or, for a batch scored in
numpy, a C-contiguous array: labels a 1-D int64 array, probabilities and decision scores a
2-D ``(rows, k)`` float64 array, values a 1-D float64 array. A few rows are scored in pure
Python (no numpy on a cold start); a batch's arrays go as they are to the encoders that
read them in C (the V2 binary outputs as ``tobytes``, the V2 JSON ones through orjson's
numpy support, the class counts as ``bincount``) and become lists only where per-row
objects need them (``tolist``). ``row(i)`` always answers lists, and two ``Scores`` are
equal when their columns hold the same values, whichever form they take.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from irisserve.schema import Cell


Labels: TypeAlias = "list[int] | npt.NDArray[np.int64]"
"""Class indices, one per row."""
Matrix: TypeAlias = "list[list[float]] | npt.NDArray[np.float64]"
"""One row of scores per row: a list of lists, or a ``(rows, k)`` array."""
Vector: TypeAlias = "list[float] | npt.NDArray[np.float64]"
"""One float per row."""


def as_list(column: Labels | Matrix | Vector) -> list[Any]:
    """A column as Python lists (an array's ``tolist``; a list as it is)."""
    return column if isinstance(column, list) else column.tolist()


@dataclass(frozen=True, eq=False)
class Scores:
    """A scorer's answer for a batch, one entry per row (see the module docstring)."""

    labels: Labels | None = None
    """Classification: index into the task's classes."""
    probabilities: Matrix | None = None
    """``predict_proba``, one row per row."""
    decision: Matrix | None = None
    """``decision_function`` when there is no ``predict_proba``; always 2-D (binary: 1 column)."""
    values: Vector | None = None
    """Regression."""

    def __len__(self) -> int:
        column = self.labels if self.labels is not None else self.values
        return 0 if column is None else len(column)

    def _columns(self) -> tuple[list[Any] | None, ...]:
        columns = (self.labels, self.probabilities, self.decision, self.values)
        return tuple(None if column is None else as_list(column) for column in columns)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Scores):
            return NotImplemented
        return self._columns() == other._columns()

    __hash__ = None  # type: ignore[assignment]  # unhashable, as its lists and arrays are

    def row(self, index: int) -> Scores:
        """The answer for one row of the batch, as a batch of one, in Python lists."""

        def one(column: Labels | Matrix | Vector | None) -> list[Any] | None:
            if column is None:
                return None
            return (
                [column[index]] if isinstance(column, list) else as_list(column[index : index + 1])
            )

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
      within 1e-12 of their scale of scikit-learn's (``irisserve.packaging.tolerance``).
    - Labels are indices into the task's classes; a row whose scores overflow comes back
      non-finite, and the ``Model`` refuses it.
    """

    def score_rows(self, rows: Sequence[Sequence[Cell]] | npt.NDArray[np.float64]) -> Scores:
        """Score validated rows. ``rows`` is a list of row lists, or — only when every feature
        is numeric — a float64 ``(n, k)`` array with NaN for a missing value. Both forms of the
        same rows must give bit-identical answers."""

"""The scorer contract: validated rows in, a batch of scores out.

A scorer (``Scorer``) turns rows of ``Cell`` values into ``Scores``: labels (indices into
the task's classes) with probabilities or decision scores, or regression values.

``Scores`` is the one result type, and it holds Python lists, never numpy arrays: a few rows
are scored in pure Python (no numpy on a cold start), a batch's arrays become lists in C
(``tolist``, 1 ms for 10,000 rows of three scores), and every consumer reads lists as they
are: orjson writes the JSON answers from them, the V2 binary outputs pack them with
``struct``, drift and the log's class counts walk them. An array form beside it would serve
only the V2 encoder, at the cost of a second output path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from irisserve.schema import Cell

__all__ = ["Scorer", "Scores"]


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
      within 1e-12 of their scale of scikit-learn's (``irisserve.packaging.tolerance``).
    - Labels are indices into the task's classes; a row whose scores overflow comes back
      non-finite, and the ``Model`` refuses it.
    """

    def score_rows(self, rows: Sequence[Sequence[Cell]] | npt.NDArray[np.float64]) -> Scores:
        """Score validated rows. ``rows`` is a list of row lists, or — only when every feature
        is numeric — a float64 ``(n, k)`` array with NaN for a missing value. Both forms of the
        same rows must give bit-identical answers."""

"""The few operations that differ between scoring one row in Python and a batch in numpy.

Every scorer is written once over *columns*: for ``RowOps`` a column is one Python value
(a row is scored alone), for ``BatchOps`` it is a numpy array, or a Python list of cells
for a categorical column. Elementwise ``+ - * /`` and comparisons are written with the
ordinary operators, which round identically on floats and float64 arrays; everything else
(``exp``, float32 rounding, selection, look-ups, tree walks) goes through these classes,
whose two implementations compute the same IEEE results. That is what makes a row's
answer independent of the batch it comes in.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from irisserve.scorers._forest import Forest

__all__ = ["BatchOps", "Column", "RowOps", "category_key", "exp"]

Column = Any
"""A float or cell (``RowOps``), or an array or list of cells (``BatchOps``)."""


def exp(value: float) -> float:
    """``math.exp``, but ``inf`` where the result overflows (as the C library's ``exp``)."""
    try:
        return math.exp(value)
    except OverflowError:
        return math.inf


#: Below this, ``math.exp`` cannot overflow.
_EXP_SAFE = 709.0


def category_key(cell: Any) -> Any:
    """The dictionary key of a category: ``None`` for a missing value (None or NaN)."""
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return None
    return cell


class RowOps:
    """Operations on one row: every column is a single Python value."""

    def number(self, column: Column) -> float:
        """A cell as a float; a missing value is NaN."""
        return math.nan if column is None else float(column)

    def missing(self, column: Column) -> bool:
        """Whether a cell is missing (None or NaN)."""
        return category_key(column) is None

    def where(self, condition: Any, yes: Any, no: Any) -> Any:
        """``yes`` where ``condition`` holds, else ``no``."""
        return yes if condition else no

    def constant(self, value: float) -> float:
        """A column holding ``value``."""
        return value

    def exp(self, column: Column) -> float:
        """The C library's ``exp`` (as ``BatchOps.exp``)."""
        return exp(column)

    def index(self, value: int) -> int:
        """A column of integer ``value``."""
        return value

    def codes(self, column: Column, mapping: dict[Any, int], unknown: int) -> int:
        """The index of a category in ``mapping``, else ``unknown``."""
        return mapping.get(category_key(column), unknown)

    def is_code(self, codes: Any, code: int) -> float:
        """1.0 where ``codes`` equals ``code``, else 0.0 (one-hot)."""
        return 1.0 if codes == code else 0.0

    def leaves(self, forest: Forest, columns: Sequence[Column]) -> list[int]:
        """The leaf each tree of ``forest`` sends this row to."""
        row = [self.number(c) for c in columns]
        if forest.float32:
            row = array("f", row).tolist()
        return forest.leaves(row)

    def take(self, forest: Forest, leaves: list[int], width: int, column: int) -> list[float]:
        """Per tree, ``values[leaf, column]`` of the forest's ``(nodes, width)`` leaf values."""
        return list(map(forest.leaf_values(width, column).__getitem__, leaves))


class BatchOps:
    """Operations on a batch: every column is a numpy array (or a list of cells)."""

    def __init__(self, n_rows: int) -> None:
        import numpy as np  # deferred: only batches need numpy

        self.np = np
        self.n_rows = n_rows

    def number(self, column: Column) -> Any:
        """A float64 array; a missing cell becomes NaN."""
        if isinstance(column, list):
            return self.np.array(column, dtype=self.np.float64)  # numpy reads None as NaN
        return column

    def missing(self, column: Column) -> Any:
        """A boolean array: which cells are missing (None or NaN)."""
        if isinstance(column, list):
            return self.np.array([category_key(c) is None for c in column], dtype=bool)
        return self.np.isnan(column)

    def where(self, condition: Any, yes: Any, no: Any) -> Any:
        """``yes`` where ``condition`` holds, else ``no``; cells stay cells."""
        if isinstance(yes, (list, str)) or isinstance(no, (list, str)) or yes is None:
            yes, no = self._cells(yes), self._cells(no)
            return [y if c else n for c, y, n in zip(condition.tolist(), yes, no, strict=True)]
        return self.np.where(condition, yes, no)

    def _cells(self, column: Any) -> list[Any]:
        if isinstance(column, list):
            return column
        if isinstance(column, self.np.ndarray):
            return list(column.tolist())
        return [column] * self.n_rows

    def constant(self, value: float) -> Any:
        """A column holding ``value``."""
        return self.np.full(self.n_rows, value, dtype=self.np.float64)

    def exp(self, column: Any) -> Any:
        """``math.exp`` of each element (numpy's own ``exp`` rounds differently by CPU).

        ``exp(±0)`` is exactly 1 (C99), so zeros — a softmax's largest score minus itself,
        a third of a 3-class batch's — take 1.0 without the call.
        """
        function: Callable[[float], float] = math.exp if not (column > _EXP_SAFE).any() else exp
        nonzero = column != 0
        if nonzero.all():
            return self.np.fromiter(map(function, column.tolist()), self.np.float64, len(column))
        result = self.np.ones(len(column))
        result[nonzero] = list(map(function, column[nonzero].tolist()))
        return result

    def index(self, value: int) -> Any:
        """A column of integer ``value``."""
        return self.np.full(self.n_rows, value, dtype=self.np.int64)

    def codes(self, column: Column, mapping: dict[Any, int], unknown: int) -> Any:
        """The index of each category in ``mapping``, else ``unknown``."""
        cells = column if isinstance(column, list) else column.tolist()
        get, missing = mapping.get, mapping.get(None, unknown)
        # ``category_key`` inlined: a NaN cell (the only one unequal to itself) is missing
        found = [get(c, unknown) if c == c else missing for c in cells]  # noqa: PLR0124
        return self.np.array(found, dtype=self.np.int64)

    def is_code(self, codes: Any, code: int) -> Any:
        """1.0 where ``codes`` equals ``code``, else 0.0 (one-hot)."""
        return (codes == code).astype(self.np.float64)

    def leaves(self, forest: Forest, columns: Sequence[Column]) -> Any:
        """``(n_trees, n_rows)`` leaf indices."""
        matrix = self.np.column_stack([self.number(c) for c in columns])
        if forest.float32:
            matrix = matrix.astype(self.np.float32)
        return forest.walk_batch(matrix)

    def take(self, forest: Forest, leaves: Any, width: int, column: int) -> Any:
        """``(n_trees, n_rows)``: ``values[leaf, column]`` of each tree's leaf for each row."""
        return forest.numpy("values").reshape(-1, width)[:, column].take(leaves)

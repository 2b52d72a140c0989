"""Turning raw scores into labels and probabilities, as scikit-learn does, on either path."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from irisserve.scorers._ops import Column

__all__ = ["argmax", "expit", "softmax", "total"]


def total(columns: Sequence[Column]) -> Column:
    """``columns[0] + columns[1] + ...``, left to right (as numpy sums a short row)."""
    result = columns[0]
    for column in columns[1:]:
        result = result + column
    return result


def argmax(columns: Sequence[Column], ops: Any) -> Any:
    """The index of the first largest column, row by row."""
    best, index = columns[0], ops.index(0)
    for position, column in enumerate(columns[1:], start=1):
        better = column > best
        index = ops.where(better, position, index)
        best = ops.where(better, column, best)
    return index


def softmax(columns: Sequence[Column], ops: Any) -> list[Column]:
    """``scikit-learn.utils.extmath.softmax``: subtract the row's max, exp, divide by the sum."""
    top = columns[0]
    for column in columns[1:]:
        top = ops.where(column > top, column, top)
    exps = [ops.exp(column - top) for column in columns]
    denominator = total(exps)
    return [e / denominator for e in exps]


def expit(column: Column, ops: Any) -> Column:
    """``scipy.special.expit``: ``1 / (1 + exp(-x))``."""
    return 1.0 / (1.0 + ops.exp(-column))

"""What a model step answers, as columns (one value per row, or one array per batch)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Output", "Scores"]


@dataclass(frozen=True)
class Output:
    """Labels (class indices), probabilities or decision scores (one column per class or
    score), or regression values."""

    labels: Any = None
    probabilities: list[Any] | None = None
    decision: list[Any] | None = None
    values: Any = None


@dataclass(frozen=True)
class Scores:
    """A scorer's answer for a batch, one entry per row, as Python lists.

    The contract's ``irisserve.model.Scores`` (CONTRACT.md), field for field; this copy
    goes when that one lands.
    """

    labels: list[int] | None = None
    probabilities: list[list[float]] | None = None
    decision: list[list[float]] | None = None
    values: list[float] | None = None

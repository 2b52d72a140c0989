"""What a model step answers, as columns (one value per row, or one array per batch)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from irisserve.model import Scores

__all__ = ["Output", "Scores"]


@dataclass(frozen=True)
class Output:
    """Labels (class indices), probabilities or decision scores (one column per class or
    score), or regression values."""

    labels: Any = None
    probabilities: list[Any] | None = None
    decision: list[Any] | None = None
    values: Any = None

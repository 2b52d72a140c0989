"""What a model step answers, as columns (one value per row, or one array per batch)."""

from __future__ import annotations

from typing import Any

__all__ = ["Output"]


class Output:
    """Labels (class indices), probabilities or decision scores (one column per class or
    score), or regression values."""

    __slots__ = ("decision", "labels", "probabilities", "values")

    def __init__(
        self,
        labels: Any = None,
        probabilities: list[Any] | None = None,
        decision: list[Any] | None = None,
        values: Any = None,
    ) -> None:
        self.labels, self.probabilities, self.decision, self.values = (
            labels,
            probabilities,
            decision,
            values,
        )

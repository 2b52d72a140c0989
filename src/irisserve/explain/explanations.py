"""What every explainer answers: a batch's attributions, per input feature and output."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Explanations", "RowExplainer"]


@dataclass(frozen=True)
class Explanations:
    """A batch's attributions: ``(inputs, outputs, rows)``, one baseline per output."""

    outputs: list[str]
    space: str
    baseline: list[float]
    attributions: Any


class RowExplainer(Protocol):
    """What explains validated rows (``explainer.Explainer``, ``fallback.ShapExplainer``)."""

    def explain(self, rows: Sequence[Sequence[Any]] | Any) -> Explanations: ...

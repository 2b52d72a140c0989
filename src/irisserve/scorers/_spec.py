"""The export's vocabulary: the refusal exception, and strict readers for its JSON values."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["Malformed", "NotExportable", "cell_list", "floats", "integers", "need", "number"]


class NotExportable(ValueError):
    """The estimator (or one of its steps or options) has no exact pickle-free export."""


class Malformed(ValueError):
    """An export that does not describe a scorer (garbled, truncated or tampered)."""


def need(condition: bool, message: str) -> None:
    """Refuse a malformed export unless ``condition`` holds."""
    if not condition:
        raise Malformed(message)


def number(value: Any, where: str) -> float:
    """A JSON number, or ``null`` for NaN (JSON has no NaN)."""
    if value is None:
        return math.nan
    need(type(value) in (int, float), f"{where} must be a number")
    return float(value)


def floats(value: Any, where: str, length: int | None = None) -> list[float]:
    """A list of numbers (``null`` for NaN), optionally of a given length."""
    need(isinstance(value, list), f"{where} must be a list")
    need(length is None or len(value) == length, f"{where} must hold {length} numbers")
    return [number(v, where) for v in value]


def integers(value: Any, where: str, bound: int) -> list[int]:
    """A list of integers in ``range(bound)``."""
    need(isinstance(value, list), f"{where} must be a list")
    need(
        all(type(v) is int and 0 <= v < bound for v in value),
        f"{where} must hold integers below {bound}",
    )
    return list(value)


def cell_list(value: Any, where: str) -> list[Any]:
    """Categories: strings, numbers, or ``null`` for the missing category."""
    need(isinstance(value, list), f"{where} must be a list")
    need(all(v is None or type(v) in (str, int, float) for v in value), f"{where}: bad category")
    return list(value)

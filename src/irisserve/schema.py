"""Validate decoded JSON into rows of finite floats. Pure: no Flask, no I/O.

Every rejection is an ``InvalidInput`` whose message names the exact place,
e.g. ``instances[3][2]: expected a finite number, got "abc"``. One row or a batch of
up to ``irisserve.model.PURE_PYTHON_ROWS`` rows stays Python lists, scored without
importing numpy; a larger batch becomes a float64 array in one pass.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from irisserve.errors import BatchTooLarge, InvalidInput
from irisserve.model import PURE_PYTHON_ROWS

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["Rows", "describe_value", "parse_body", "parse_instances", "parse_row"]

_NUMBER_TYPES = (int, float)
_BODY_KEYS = ("features", "instances")


@dataclass(frozen=True)
class Rows:
    """Validated rows, and whether the caller sent one row (``features``) or a batch.

    ``data`` is a list of float lists (a small batch) or a float64 array (a large one);
    ``values`` is always the ``(n, n_features)`` float64 array, built on first use.
    """

    data: list[list[float]] | npt.NDArray[np.float64]
    single: bool

    def __len__(self) -> int:
        return len(self.data)

    @cached_property
    def values(self) -> npt.NDArray[np.float64]:
        """The rows as a float64 array (imports numpy)."""
        import numpy as np

        return np.asarray(self.data, dtype=np.float64).reshape(len(self.data), -1)


def describe_value(value: Any) -> str:
    """``value`` as JSON for an error message, cut to 40 characters."""
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _number(value: Any, where: str) -> float:
    if type(value) not in _NUMBER_TYPES:
        raise InvalidInput(f"{where}: expected a finite number, got {describe_value(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise InvalidInput(f"{where}: number is too large to be a feature value") from None
    if not math.isfinite(number):
        raise InvalidInput(f"{where}: expected a finite number, got {describe_value(value)}")
    return number


def _plain(row: list[Any]) -> list[float] | None:
    """A list of plain finite numbers as floats; ``None`` sends it to the path that names faults."""
    for value in row:
        if type(value) not in _NUMBER_TYPES:
            return None
    try:
        values = [float(value) for value in row]
    except OverflowError:
        return None
    return values if all(map(math.isfinite, values)) else None


def parse_row(row: Any, feature_names: Sequence[str], where: str) -> list[float]:
    """One row: a list of numbers in feature order, or an object keyed by feature name."""
    if isinstance(row, dict):
        unknown = [key for key in row if key not in feature_names]
        if unknown:
            raise InvalidInput(
                f"{where}: unknown feature {describe_value(unknown[0])}; "
                f"expected {list(feature_names)}"
            )
        missing = [name for name in feature_names if name not in row]
        if missing:
            raise InvalidInput(f"{where}: missing feature {describe_value(missing[0])}")
        return [_number(row[name], f"{where}.{name}") for name in feature_names]
    if not isinstance(row, list):
        raise InvalidInput(
            f"{where}: expected a list of {len(feature_names)} numbers or an object keyed by "
            f"feature name, got {describe_value(row)}"
        )
    if len(row) != len(feature_names):
        raise InvalidInput(f"{where}: expected {len(feature_names)} features, got {len(row)}")
    plain = _plain(row)
    if plain is not None:
        return plain
    return [_number(value, f"{where}[{i}]") for i, value in enumerate(row)]


def _fast_array(instances: list[Any], n_features: int) -> npt.NDArray[np.float64] | None:
    """The common case (lists of plain numbers) in one pass; ``None`` sends it to the slow path."""
    import numpy as np  # deferred: a cold start with one row never needs it

    for row in instances:
        if type(row) is not list or len(row) != n_features:
            return None
        for value in row:
            if type(value) not in _NUMBER_TYPES:
                return None
    try:
        array = np.array(instances, dtype=np.float64)
    except OverflowError:
        return None
    return array if bool(np.isfinite(array).all()) else None


def parse_instances(
    instances: Any, feature_names: Sequence[str], max_rows: int, where: str = "instances"
) -> npt.NDArray[np.float64]:
    """A batch: a non-empty list of rows, at most ``max_rows`` long, as a float64 array."""
    import numpy as np

    return np.asarray(_instances(instances, feature_names, max_rows, where, 0), dtype=np.float64)


def _instances(
    instances: Any, feature_names: Sequence[str], max_rows: int, where: str, small: int
) -> list[list[float]] | npt.NDArray[np.float64]:
    """A validated batch: float lists when it has at most ``small`` rows, else an array."""
    if not isinstance(instances, list):
        raise InvalidInput(f"{where}: expected a list of rows, got {describe_value(instances)}")
    if not instances:
        raise InvalidInput(f"{where}: the batch is empty; send at least one row")
    if len(instances) > max_rows:
        raise BatchTooLarge(
            f"{where}: {len(instances)} rows is over the limit of {max_rows} per request; "
            "split the batch"
        )
    if len(instances) > small:
        fast = _fast_array(instances, len(feature_names))
        if fast is not None:
            return fast
    rows = [parse_row(row, feature_names, f"{where}[{i}]") for i, row in enumerate(instances)]
    if len(rows) <= small:
        return rows
    import numpy as np

    return np.array(rows, dtype=np.float64)


def parse_body(body: Any, feature_names: Sequence[str], max_rows: int) -> Rows:
    """A request body: ``{"features": row}`` or ``{"instances": [row, ...]}``."""
    if not isinstance(body, dict):
        raise InvalidInput(
            'the body must be a JSON object with "features" or "instances", '
            f"got {describe_value(body)}"
        )
    present = [key for key in _BODY_KEYS if key in body]
    extra = sorted(key for key in body if key not in _BODY_KEYS)
    if extra:
        raise InvalidInput(
            f'unknown key {describe_value(extra[0])}: the body takes "features" (one row) '
            'or "instances" (a batch)'
        )
    if len(present) != 1:
        raise InvalidInput(
            'the body must have exactly one of "features" (one row) or "instances" (a batch)'
        )
    if present[0] == "features":
        return Rows(data=[parse_row(body["features"], feature_names, "features")], single=True)
    batch = _instances(body["instances"], feature_names, max_rows, "instances", PURE_PYTHON_ROWS)
    return Rows(data=batch, single=False)

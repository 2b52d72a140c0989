"""Validate decoded JSON against a model's input schema into rows. Pure: no Flask, no I/O.

Every rejection is an ``InvalidInput`` whose message names the exact place, e.g.
``instances[3][2]: expected a finite number, got "abc"`` or
``instances[3].embarked: "X" is not one of C, Q, S``. A row is a list of ``Cell`` values
in schema order: floats for numeric features, the category as trained for categorical
ones, the string itself for text ones, ``None`` where the schema allows a missing value.

One row or a batch of up to ``PURE_PYTHON_ROWS`` rows stays Python lists, scored without
importing numpy; a larger batch of an all-numeric schema becomes a float64 array (NaN for
a missing value). A schema with categories always gives lists.

Every input takes one path, whatever its shape (one row as a list, one row as an object
keyed by feature name, a batch of either), in two steps served by the same functions for one
row and for a batch. First the whole-batch pass, at C speed: the shape of the rows, the set of
cell types, then finiteness (numpy for a large all-numeric batch) or one column at a time when
the schema has categories. Only what that pass does not take as it is goes to the per-cell
checks, which find and name the first fault, or give the same rows (an object among lists, a
null in a few rows, an unknown category scored as such).
"""

from __future__ import annotations

import array
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import chain
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from irisserve.artifact.manifest import CATEGORICAL, NUMERIC, TEXT, Feature
from irisserve.errors import BatchTooLarge, InvalidInput

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "PURE_PYTHON_ROWS",
    "Cell",
    "InputSchema",
    "Rows",
    "describe_value",
    "float_array",
    "parse_body",
    "parse_instances",
]

#: Batches up to this many rows stay Python lists: up to here that is no slower than
#: numpy (measured), and it needs no numpy import.
PURE_PYTHON_ROWS = 8

Cell = float | int | str | None
"""One validated input value, in schema (``feature_names_in_``) order: a finite float for a
numeric feature; the category as trained (str, or an int/float for numeric categories) for a
categorical one; the string for a text one; None for a missing value (only where the schema
allows it)."""

_NUMBER_TYPES = (int, float)
_CATEGORY_TYPES = (str, int, float)
_NONE = type(None)
_NUMBERS = frozenset(_NUMBER_TYPES)
_LISTS = frozenset({list})
_DICTS = frozenset({dict})
_BODY_KEYS = frozenset({"features", "instances"})
#: Categories listed in an error message; a longer list is cut.
_SHOWN_CATEGORIES = 20


@dataclass(frozen=True)
class Rows:
    """Validated rows, and whether the caller sent one row (``features``) or a batch.

    ``data`` is a list of row lists (a small batch, or any batch with categories) or a
    float64 array (a large all-numeric one).
    """

    data: list[list[Cell]] | npt.NDArray[np.float64]
    single: bool

    def __len__(self) -> int:
        return len(self.data)

    @cached_property
    def values(self) -> npt.NDArray[np.float64]:
        """The rows of an all-numeric schema as a float64 array, NaN where missing."""
        return _as_array(self.data) if isinstance(self.data, list) else self.data


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


def _numeric(feature: Feature) -> Callable[[Any, str], Cell]:
    if not feature.nullable:
        return _number

    def check(value: Any, where: str) -> Cell:
        return None if value is None else _number(value, where)

    return check


def _show_categories(categories: Sequence[Any]) -> str:
    shown = ", ".join(str(c) for c in categories[:_SHOWN_CATEGORIES])
    more = len(categories) - _SHOWN_CATEGORIES
    return shown if more <= 0 else f"{shown}, ... ({len(categories)} in all)"


def _categorical(feature: Feature) -> Callable[[Any, str], Cell]:
    categories = feature.categories or []
    # A dict: a number finds its category whatever its JSON spelling (1 and 1.0).
    known: dict[Any, Cell] = {category: category for category in categories}
    kinds = {str} if all(type(c) is str for c in categories) else set(_NUMBER_TYPES)
    ignore_unknown = feature.unknown == "ignore"
    listed = _show_categories(categories)

    def check(value: Any, where: str) -> Cell:
        if value is None and feature.nullable:
            return None
        if type(value) in _CATEGORY_TYPES:
            category = known.get(value)
            if category is not None:
                return category
            if ignore_unknown and type(value) in kinds:  # scored; drift counts it
                return value if type(value) is str else _number(value, where)
        raise InvalidInput(f"{where}: {describe_value(value)} is not one of {listed}")

    return check


def _text(feature: Feature) -> Callable[[Any, str], Cell]:
    nullable = feature.nullable

    def check(value: Any, where: str) -> Cell:
        if type(value) is str or (value is None and nullable):
            return value
        raise InvalidInput(f"{where}: expected a text (a string), got {describe_value(value)}")

    return check


_Column = Callable[[tuple[Any, ...]], Sequence[Cell] | None]
"""A whole column of a batch, checked at once: its cells (``values`` itself when they
need no conversion), or ``None`` when any cell needs the per-cell check (which finds and
names the fault)."""


def _allowed(types: Iterable[type], nullable: bool) -> set[type]:
    """The cell types a column takes as they are: ``types``, and null when ``nullable``."""
    return {*types, _NONE} if nullable else set(types)


def _numeric_column(feature: Feature) -> _Column:
    allowed = _allowed(_NUMBER_TYPES, feature.nullable)

    def column(values: tuple[Any, ...]) -> Sequence[Cell] | None:
        kinds = set(map(type, values))
        if not kinds <= allowed:
            return None
        present = [v for v in values if v is not None] if _NONE in kinds else values
        try:
            numbers = present if int not in kinds else list(map(float, present))
        except OverflowError:
            return None
        if not all(map(math.isfinite, numbers)):
            return None
        if int not in kinds:
            return values
        if _NONE not in kinds:
            return numbers
        found = iter(numbers)
        return [None if v is None else next(found) for v in values]

    return column


def _categorical_column(feature: Feature) -> _Column:
    allowed = _allowed(_CATEGORY_TYPES, feature.nullable)
    lookup: dict[Any, Cell] = {category: category for category in feature.categories or []}
    if feature.nullable:
        lookup[None] = None
    # Text categories are found as sent (a str equals only a str); numbers take the
    # spelling they were trained with.
    as_sent = {str, _NONE} if all(type(c) is str for c in lookup if c is not None) else set()

    def column(values: tuple[Any, ...]) -> Sequence[Cell] | None:
        kinds = set(map(type, values))
        if not kinds <= allowed:
            return None
        if kinds <= as_sent:
            return values if set(values) <= lookup.keys() else None
        try:
            return list(map(lookup.__getitem__, values))
        except KeyError:  # an unknown category: scored or refused cell by cell
            return None

    return column


def _text_column(feature: Feature) -> _Column:
    allowed = _allowed((str,), feature.nullable)

    def column(values: tuple[Any, ...]) -> Sequence[Cell] | None:
        return values if set(map(type, values)) <= allowed else None

    return column


#: Each kind of feature → its one-cell check and its whole-column check.
_CHECKS = {
    NUMERIC: (_numeric, _numeric_column),
    CATEGORICAL: (_categorical, _categorical_column),
    TEXT: (_text, _text_column),
}


def _in_order(rows: list[Any], names: list[str]) -> Sequence[Sequence[Any]] | None:
    """Every row's cells in schema order: the rows themselves when all are lists of the
    schema's width, tuples when all are objects keyed by exactly its features; else ``None``."""
    kinds = set(map(type, rows))
    if kinds == _LISTS:
        return rows if set(map(len, rows)) == {len(names)} else None
    if kinds != _DICTS or set(map(len, rows)) != {len(names)}:
        return None
    try:  # n keys, every feature among them: exactly the features
        if len(names) == 1:
            return list(zip(map(itemgetter(names[0]), rows), strict=True))
        return list(map(itemgetter(*names), rows))
    except KeyError:
        return None


def _floats(rows: list[Any], width: int) -> list[list[Cell]] | None:
    """A few rows, each a list of ``width`` plain finite numbers, as floats; ``None`` for
    anything else (an object or a null included: the per-cell checks take those)."""
    floats: list[list[Cell]] = []
    for row in rows:
        if type(row) is not list or len(row) != width or not set(map(type, row)) <= _NUMBERS:
            return None
        try:
            values: list[Cell] = list(map(float, row))
        except OverflowError:
            return None
        if not all(map(math.isfinite, values)):  # type: ignore[arg-type]
            return None
        floats.append(values)
    return floats


def float_array(flat: list[Any]) -> npt.NDArray[np.float64] | None:
    """The decoded JSON ``flat`` as float64, read in C, when every element is a number;
    otherwise None, and the caller looks for the element that is not. ``array`` refuses
    strings, null, lists, objects and integers beyond float64; it reads true and false as
    1.0 and 0.0, so booleans are looked for among the ones and zeros (or everywhere, when
    they are most of the data: no slower than that)."""
    import numpy as np

    try:
        values = np.frombuffer(array.array("d", flat), dtype=np.float64)
    except (TypeError, OverflowError):
        return None
    suspects = np.flatnonzero((values == 0) | (values == 1))
    checked = flat if 4 * len(suspects) > len(flat) else map(flat.__getitem__, suspects.tolist())
    if not set(map(type, checked)) <= _NUMBERS:
        return None
    return values


def _array(rows: Sequence[Sequence[Any]], nullable: list[bool]) -> npt.NDArray[np.float64] | None:
    """A large batch of plain numbers (null where the schema allows it) as a float64 array;
    ``None`` for anything else. Numbers alone are read in C (``float_array``); a batch with
    nulls takes the general pass."""
    import numpy as np  # deferred: a cold start with one row never needs it

    width = len(nullable)
    numbers = float_array(list(chain.from_iterable(rows)))
    if numbers is not None and bool(np.isfinite(numbers).all()):
        return numbers.reshape(len(rows), width)
    if not set(map(type, chain.from_iterable(rows))) <= _allowed(_NUMBER_TYPES, any(nullable)):
        return None
    try:  # numpy converts an int as float() does, and null to NaN
        cells = chain.from_iterable(rows)
        array = np.fromiter(cells, dtype=np.float64, count=len(rows) * width)
    except OverflowError:
        return None
    array = array.reshape(len(rows), width)
    finite = np.isfinite(array)
    if bool(finite.all()):
        return array
    # A NaN must be a null (never a NaN float, which another caller than JSON could hand
    # over), in a nullable column; inf is refused.
    for i, j in np.argwhere(~finite).tolist():
        if not (nullable[j] and rows[i][j] is None):
            return None
    return array


def _by_column(rows: Sequence[Sequence[Any]], columns: list[_Column]) -> list[list[Cell]] | None:
    """Rows with categories, checked one column at a time; ``None`` for anything a column
    does not take as it is."""
    checked: list[Sequence[Cell]] = []
    converted = False
    for values, column in zip(zip(*rows, strict=True), columns, strict=True):
        cells = column(values)
        if cells is None:
            return None
        checked.append(cells)
        converted = converted or cells is not values
    if not converted and type(rows[0]) is list:  # floats, nulls and text categories as sent
        return rows  # type: ignore[return-value]
    return list(map(list, zip(*checked, strict=True)))


def _as_array(rows: list[list[Cell]]) -> npt.NDArray[np.float64]:
    """Rows of numbers as a float64 array, NaN where missing."""
    import numpy as np

    cells = [[math.nan if v is None else v for v in row] for row in rows]
    return np.asarray(cells, dtype=np.float64).reshape(len(rows), -1)


class InputSchema:
    """A model's input schema, compiled once into one check per feature (``checks``, which
    names the faulty place) and one whole-column check per feature."""

    def __init__(self, features: Sequence[Feature]) -> None:
        self.features = tuple(features)
        self.names = [feature.name for feature in self.features]
        self.index = {name: i for i, name in enumerate(self.names)}
        #: Every feature numeric: a large batch may become a float64 array.
        self.all_numeric = all(feature.type == NUMERIC for feature in self.features)
        self.checks = [_CHECKS[f.type][0](f) for f in self.features]
        #: The columns that take null: the only places a large numeric batch may hold NaN.
        self.nullable = [f.nullable for f in self.features]
        self._columns = [_CHECKS[f.type][1](f) for f in self.features]
        self._what = "numbers" if self.all_numeric else "values"

    @classmethod
    def numeric(cls, names: Sequence[str]) -> InputSchema:
        """A schema of finite numbers, never null (the Iris model's)."""
        return cls([Feature(name) for name in names])

    def parse_row(self, row: Any, where: str) -> list[Cell]:
        """One row: a list of values in schema order, or an object keyed by feature name.

        The two steps of a batch, for a batch of one.
        """
        passed = self._whole_batch([row])
        return self._cell_by_cell(row, where) if passed is None else passed[0]

    def parse_rows(self, rows: list[Any], where: str) -> list[list[Cell]] | npt.NDArray[np.float64]:
        """Rows ``where[0]``, ``where[1]``, ...: lists for up to ``PURE_PYTHON_ROWS`` rows or
        when the schema has categories, else a float64 array.

        The whole-batch pass, and only for rows it does not take as they are, the per-cell
        checks, which name the first fault or give the same rows.
        """
        passed = self._whole_batch(rows)
        if passed is not None:
            return passed
        checked = [self._cell_by_cell(row, f"{where}[{i}]") for i, row in enumerate(rows)]
        if self.all_numeric and len(rows) > PURE_PYTHON_ROWS:
            return _as_array(checked)
        return checked

    def _whole_batch(self, rows: list[Any]) -> list[list[Cell]] | npt.NDArray[np.float64] | None:
        """Step one, at C speed: the rows if each is in the schema's shape and every cell
        is taken as it is; ``None`` sends them to the per-cell checks.

        A few rows of numbers are taken as lists, row by row; a large batch of numbers
        goes through numpy; categories are checked one column at a time, from two rows on
        (for one row that costs more than it saves).
        """
        if self.all_numeric and len(rows) <= PURE_PYTHON_ROWS:
            return _floats(rows, len(self.names))
        if len(rows) == 1:
            return None
        ordered = _in_order(rows, self.names)
        if ordered is None:
            return None
        if self.all_numeric:
            return _array(ordered, self.nullable)
        return _by_column(ordered, self._columns)

    def _cell_by_cell(self, row: Any, where: str) -> list[Cell]:
        """Step two: one row checked cell by cell, the first fault named at its place."""
        names = self.names
        if isinstance(row, dict):
            unknown = [key for key in row if key not in self.index]
            if unknown:
                raise InvalidInput(
                    f"{where}: unknown feature {describe_value(unknown[0])}; expected {names}"
                )
            missing = [name for name in names if name not in row]
            if missing:
                raise InvalidInput(f"{where}: missing feature {describe_value(missing[0])}")
            return [
                check(row[name], f"{where}.{name}")
                for name, check in zip(names, self.checks, strict=True)
            ]
        if not isinstance(row, list):
            raise InvalidInput(
                f"{where}: expected a list of {len(names)} {self._what} or an object keyed by "
                f"feature name, got {describe_value(row)}"
            )
        if len(row) != len(names):
            raise InvalidInput(f"{where}: expected {len(names)} features, got {len(row)}")
        return [
            check(value, f"{where}[{i}]")
            for i, (value, check) in enumerate(zip(row, self.checks, strict=True))
        ]


def parse_instances(
    instances: Any, schema: InputSchema, max_rows: int, where: str = "instances"
) -> list[list[Cell]] | npt.NDArray[np.float64]:
    """A batch: a non-empty list of rows, at most ``max_rows`` long.

    Lists of rows for up to ``PURE_PYTHON_ROWS`` rows or when the schema has categories,
    else a float64 array.
    """
    if not isinstance(instances, list):
        raise InvalidInput(f"{where}: expected a list of rows, got {describe_value(instances)}")
    if not instances:
        raise InvalidInput(f"{where}: the batch is empty; send at least one row")
    if len(instances) > max_rows:
        raise BatchTooLarge(
            f"{where}: {len(instances)} rows is over the limit of {max_rows} per request; "
            "split the batch"
        )
    return schema.parse_rows(instances, where)


def parse_body(body: Any, schema: InputSchema, max_rows: int) -> Rows:
    """A request body: ``{"features": row}`` or ``{"instances": [row, ...]}``."""
    if not isinstance(body, dict):
        raise InvalidInput(
            'the body must be a JSON object with "features" or "instances", '
            f"got {describe_value(body)}"
        )
    extra = body.keys() - _BODY_KEYS
    if extra:
        raise InvalidInput(
            f'unknown key {describe_value(min(extra))}: the body takes "features" (one row) '
            'or "instances" (a batch)'
        )
    if len(body) != 1:
        raise InvalidInput(
            'the body must have exactly one of "features" (one row) or "instances" (a batch)'
        )
    if "features" in body:
        return Rows(data=[schema.parse_row(body["features"], "features")], single=True)
    return Rows(data=parse_instances(body["instances"], schema, max_rows), single=False)

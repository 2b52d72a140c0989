"""Pipelines and transformers: exported as JSON steps, applied column by column.

Covers ``Pipeline``, ``ColumnTransformer`` (``passthrough``, ``drop``, ``remainder``),
``SimpleImputer`` (every strategy, ``missing_values=nan``), ``StandardScaler``,
``MinMaxScaler``, ``OneHotEncoder`` (``handle_unknown`` error/ignore, ``drop``) and
``OrdinalEncoder``. Each operation is scikit-learn's own elementwise one (``(x - mean) /
scale``, ``x * scale + min``...), so the outputs are bit-identical to ``transform``'s.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol

from irisserve.errors import InvalidInput
from irisserve.scorers._ops import Column, category_key
from irisserve.scorers._spec import (
    Malformed,
    NotExportable,
    cell_list,
    floats,
    integers,
    need,
    number,
)

__all__ = ["Step", "export_steps", "load_steps"]


class Step(Protocol):
    """One transformer: columns in, columns out."""

    def apply(self, columns: list[Column], ops: Any) -> list[Column]: ...


def _json_number(value: float) -> float | None:
    return None if math.isnan(value) else value


def _json_cells(values: Any) -> list[Any]:
    cells = []
    for value in values.tolist():
        key = category_key(value)
        if key is not None and type(key) not in (str, int, float):
            raise NotExportable(f"category {value!r} is neither a string nor a number")
        cells.append(key)
    return cells


# ---------------------------------------------------------------- the steps


class Impute:
    """``SimpleImputer``: a missing cell takes its column's statistic; empty columns drop."""

    def __init__(self, fill: list[Any], keep: list[int]) -> None:
        self.fill, self.keep = fill, keep

    def apply(self, columns: list[Column], ops: Any) -> list[Column]:
        """Fill, then keep the columns scikit-learn keeps."""
        filled = [ops.where(ops.missing(c), v, c) for c, v in zip(columns, self.fill, strict=True)]
        return [filled[i] for i in self.keep]


class Affine:
    """``StandardScaler`` (``(x - offset) / scale``) or ``MinMaxScaler`` (``x * scale + offset``,
    then an optional clip)."""

    def __init__(
        self,
        kind: str,
        offset: list[float] | None,
        scale: list[float] | None,
        clip: tuple[float, float] | None = None,
    ) -> None:
        self.kind, self.offset, self.scale, self.clip = kind, offset, scale, clip

    def apply(self, columns: list[Column], ops: Any) -> list[Column]:
        """Scale each column with scikit-learn's operations, in its order."""
        out = []
        for i, column in enumerate(columns):
            x = ops.number(column)
            if self.kind == "standard":
                if self.offset is not None:
                    x = x - self.offset[i]
                if self.scale is not None:
                    x = x / self.scale[i]
            elif self.scale is not None and self.offset is not None:
                x = x * self.scale[i] + self.offset[i]
                if self.clip is not None:
                    low, high = self.clip
                    x = ops.where(x < low, low, ops.where(x > high, high, x))
            out.append(x)
        return out


def _codes(categories: list[Any]) -> dict[Any, int]:
    return {category: index for index, category in enumerate(categories)}


def _refuse_unknown(index: int, codes: Any, column: Column) -> None:
    """``handle_unknown="error"``: a category not seen in training is invalid input."""
    if isinstance(codes, int):
        if codes < 0:
            raise InvalidInput(f"encoder input column {index}: unknown category {column!r}")
    elif (codes < 0).any():
        cells = column if isinstance(column, list) else column.tolist()
        bad = cells[int((codes < 0).argmax())]
        raise InvalidInput(f"encoder input column {index}: unknown category {bad!r}")


class OneHot:
    """``OneHotEncoder``: one 0/1 column per kept category; unknown → error or all zeros."""

    def __init__(
        self, categories: list[dict[Any, int]], drop: list[int | None], ignore: bool
    ) -> None:
        self.categories, self.drop, self.ignore = categories, drop, ignore

    def apply(self, columns: list[Column], ops: Any) -> list[Column]:
        """Encode each column."""
        out = []
        for i, (column, codes_of) in enumerate(zip(columns, self.categories, strict=True)):
            codes = ops.codes(column, codes_of, -1)
            if not self.ignore:
                _refuse_unknown(i, codes, column)
            out += [
                ops.is_code(codes, code) for code in range(len(codes_of)) if code != self.drop[i]
            ]
        return out


class Ordinal:
    """``OrdinalEncoder``: the category's index; the missing category → its encoded value;
    unknown → ``unknown_value`` or an error."""

    def __init__(
        self, categories: list[dict[Any, int]], unknown_value: float | None, missing_value: float
    ) -> None:
        self.categories, self.unknown_value, self.missing_value = (
            categories,
            unknown_value,
            missing_value,
        )

    def apply(self, columns: list[Column], ops: Any) -> list[Column]:
        """Encode each column."""
        out = []
        for i, (column, codes_of) in enumerate(zip(columns, self.categories, strict=True)):
            codes = ops.codes(column, codes_of, -1)
            if self.unknown_value is None:
                _refuse_unknown(i, codes, column)
            value = codes * 1.0
            if None in codes_of:
                value = ops.where(codes == codes_of[None], self.missing_value, value)
            if self.unknown_value is not None:
                value = ops.where(codes < 0, self.unknown_value, value)
            out.append(value)
        return out


class Columns:
    """``ColumnTransformer``: each part takes its input columns through its steps; the
    outputs are concatenated in order (``drop`` parts are not listed)."""

    def __init__(self, parts: list[tuple[list[int], list[Step]]]) -> None:
        self.parts = parts

    def apply(self, columns: list[Column], ops: Any) -> list[Column]:
        """Run every part and concatenate."""
        out: list[Column] = []
        for indices, steps in self.parts:
            out += run([columns[i] for i in indices], steps, ops)
        return out


def run(columns: list[Column], steps: Sequence[Step], ops: Any) -> list[Column]:
    """Apply ``steps`` in order."""
    for step in steps:
        columns = step.apply(columns, ops)
    return columns


# ---------------------------------------------------------------- export


def _export_imputer(imputer: Any) -> dict[str, Any]:
    missing = imputer.missing_values
    if missing is not None and not (isinstance(missing, float) and math.isnan(missing)):
        raise NotExportable("SimpleImputer: only missing_values=nan (or None) is exportable")
    if imputer.add_indicator:
        raise NotExportable("SimpleImputer: add_indicator=True is not exportable")
    fill = _json_cells(imputer.statistics_)
    keep = [
        i
        for i, value in enumerate(fill)
        if imputer.keep_empty_features or imputer.strategy == "constant" or value is not None
    ]
    return {"kind": "impute", "fill": fill, "keep": keep}


def _export_standard(scaler: Any) -> dict[str, Any]:
    offset = scaler.mean_.tolist() if scaler.with_mean else None
    scale = scaler.scale_.tolist() if scaler.with_std else None
    return {"kind": "standard", "offset": offset, "scale": scale}


def _export_minmax(scaler: Any) -> dict[str, Any]:
    clip = [float(v) for v in scaler.feature_range] if scaler.clip else None
    return {
        "kind": "minmax",
        "offset": scaler.min_.tolist(),
        "scale": scaler.scale_.tolist(),
        "clip": clip,
    }


def _check_categories(encoder: Any) -> list[list[Any]]:
    if getattr(encoder, "_infrequent_enabled", False):
        raise NotExportable(f"{type(encoder).__name__}: infrequent categories are not exportable")
    return [_json_cells(c) for c in encoder.categories_]


def _export_onehot(encoder: Any) -> dict[str, Any]:
    categories = _check_categories(encoder)
    if encoder.handle_unknown not in ("error", "ignore"):
        raise NotExportable(f"OneHotEncoder: handle_unknown={encoder.handle_unknown!r}")
    drop = encoder.drop_idx_
    drops = (
        [None] * len(categories) if drop is None else [None if d is None else int(d) for d in drop]
    )
    return {
        "kind": "onehot",
        "categories": categories,
        "drop": drops,
        "ignore": encoder.handle_unknown == "ignore",
    }


def _export_ordinal(encoder: Any) -> dict[str, Any]:
    categories = _check_categories(encoder)
    unknown = encoder.unknown_value if encoder.handle_unknown == "use_encoded_value" else None
    return {
        "kind": "ordinal",
        "categories": categories,
        "unknown_value": None if unknown is None else _json_number(float(unknown)),
        "use_unknown_value": unknown is not None,
        "missing_value": _json_number(float(encoder.encoded_missing_value)),
    }


def _is_identity(transformer: Any) -> bool:
    return (
        type(transformer).__name__ == "FunctionTransformer"
        and transformer.func is None
        and transformer.inverse_func is None
    )


def _export_columns(transformer: Any) -> dict[str, Any]:
    parts = []
    indices = transformer._transformer_to_input_indices
    for name, step, _ in transformer.transformers_:
        columns = [int(i) for i in indices[name]]
        if step == "drop" or not columns:
            continue
        steps = [] if step == "passthrough" or _is_identity(step) else export_steps(step)
        parts.append({"columns": columns, "steps": steps})
    return {"kind": "columns", "parts": parts}


_EXPORTERS = {
    "SimpleImputer": _export_imputer,
    "StandardScaler": _export_standard,
    "MinMaxScaler": _export_minmax,
    "OneHotEncoder": _export_onehot,
    "OrdinalEncoder": _export_ordinal,
    "ColumnTransformer": _export_columns,
}


def export_steps(transformer: Any) -> list[dict[str, Any]]:
    """The JSON steps of a fitted transformer or transformer-only ``Pipeline``."""
    name = type(transformer).__name__
    if name == "Pipeline":
        return [
            spec
            for _, step in transformer.steps
            if step not in (None, "passthrough")
            for spec in export_steps(step)
        ]
    if name not in _EXPORTERS:
        raise NotExportable(f"{name} has no pickle-free export")
    return [_EXPORTERS[name](transformer)]


# ---------------------------------------------------------------- load


def _load_categories(spec: Any, width: int) -> list[dict[Any, int]]:
    need(isinstance(spec, list) and len(spec) == width, "categories must list every column")
    return [_codes(cell_list(c, "categories")) for c in spec]


def _load_step(spec: Any, width: int) -> tuple[Step, int]:
    need(isinstance(spec, dict) and "kind" in spec, "a step must be an object with a kind")
    kind = spec["kind"]
    if kind == "impute":
        fill = cell_list(spec["fill"], "fill")
        need(len(fill) == width, "fill must hold one value per column")
        keep = integers(spec["keep"], "keep", width)
        return Impute(fill, keep), len(keep)
    if kind == "standard":
        offset = None if spec["offset"] is None else floats(spec["offset"], "offset", width)
        scale = None if spec["scale"] is None else floats(spec["scale"], "scale", width)
        return Affine("standard", offset, scale), width
    if kind == "minmax":
        clip = spec["clip"]
        bounds = None if clip is None else tuple(floats(clip, "clip", 2))
        offset, scale = (
            floats(spec["offset"], "offset", width),
            floats(spec["scale"], "scale", width),
        )
        return Affine("minmax", offset, scale, bounds), width  # type: ignore[arg-type]
    if kind == "onehot":
        categories = _load_categories(spec["categories"], width)
        drop = spec["drop"]
        need(isinstance(drop, list) and len(drop) == width, "drop must list every column")
        need(all(d is None or type(d) is int for d in drop), "drop must hold indices")
        need(type(spec["ignore"]) is bool, "ignore must be true or false")
        out = sum(len(c) - (d is not None) for c, d in zip(categories, drop, strict=True))
        return OneHot(categories, drop, spec["ignore"]), out
    if kind == "ordinal":
        categories = _load_categories(spec["categories"], width)
        need(type(spec["use_unknown_value"]) is bool, "use_unknown_value must be a boolean")
        unknown = (
            number(spec["unknown_value"], "unknown_value") if spec["use_unknown_value"] else None
        )
        return Ordinal(categories, unknown, number(spec["missing_value"], "missing_value")), width
    if kind == "columns":
        need(isinstance(spec["parts"], list), "parts must be a list")
        parts, out = [], 0
        for part in spec["parts"]:
            columns = integers(part["columns"], "columns", width)
            steps, part_width = load_steps(part["steps"], len(columns))
            parts.append((columns, steps))
            out += part_width
        return Columns(parts), out
    raise Malformed(f"unknown step kind {kind!r}")


def load_steps(specs: Any, width: int) -> tuple[list[Step], int]:
    """Steps from their JSON, with the number of columns they output."""
    need(isinstance(specs, list), "steps must be a list")
    steps = []
    for spec in specs:
        step, width = _load_step(spec, width)
        steps.append(step)
    return steps, width

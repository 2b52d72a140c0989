"""The Open Inference Protocol (KServe V2) request decoder. Pure: no Flask, no I/O.

Request bodies become the rows to score (a float64 ``(n, n_features)`` array, or lists for a
few rows) and the outputs asked for (``outputs``: the ones a model offers); answers are
``irisserve.protocols.v2.encode``'s. The rows come in one of two forms:

- one ``[n, n_features]`` tensor, under any name (the metadata calls it ``input-0``;
  MLServer's ``NumpyRequestCodec`` sends ``input-1``);
- one input per feature, named after it, of shape ``[n]`` or ``[n, 1]`` (MLServer's
  ``PandasCodec``): each decodes to a column, and ``columns_to_rows`` assembles them.

A request's ``parameters.content_type`` (MLServer's request codecs) picks the form
where it matters: ``np`` is one tensor, ``pd`` one input per feature; without it, several
inputs, or one named after a feature, are columns. Both the JSON tensor form and the
binary tensor data extension are handled: tensors as raw little-endian bytes after the
JSON header, whose length ``Inference-Header-Content-Length`` gives, each sized by its
``binary_data_size`` parameter, in the order of the inputs (BYTES elements carry a
4-byte little-endian length prefix). The protocol's objects take their own keys
(and ``model_name``/``model_version`` at the top, which the KServe SDK sends); a
``parameters`` object takes any key. Every rejection is an ``InvalidInput`` (or
``BatchTooLarge``) whose message names the place, e.g. ``inputs[0].shape``.
"""

from __future__ import annotations

import itertools
import math
import struct
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias

from irisserve.artifact.manifest import NUMERIC, REGRESSION
from irisserve.artifact.model import Model
from irisserve.errors import BatchTooLarge, InvalidInput
from irisserve.schema import PURE_PYTHON_ROWS, Cell, InputSchema, describe_value, float_array

if TYPE_CHECKING:  # numpy is imported where it is used: off the HTTP function's cold path
    import numpy as np
    import numpy.typing as npt

    #: Validated rows: Python lists for a few rows of a JSON floating-point tensor or of any
    #: binary tensor (no numpy on a cold start), otherwise a float64 ``(n, n_features)`` array.
    Rows: TypeAlias = list[list[float]] | npt.NDArray[np.float64]

__all__ = [
    "INPUT_DATATYPES",
    "OUTPUTS",
    "InferRequest",
    "RequestedOutput",
    "columns_to_rows",
    "outputs",
    "parse_request",
    "request_target",
    "split_body",
]

#: Output name → OIP datatype, in the order a response lists them (a classifier with
#: probabilities; ``outputs`` gives any model's).
OUTPUTS: dict[str, str] = {"predict": "INT64", "predict_proba": "FP64", "label": "BYTES"}
_DECISION_OUTPUTS = {"predict": "INT64", "decision_function": "FP64", "label": "BYTES"}
_LABEL_OUTPUTS = {"predict": "INT64", "label": "BYTES"}
_REGRESSION_OUTPUTS = {"predict": "FP64"}
#: Input datatype → the little-endian numpy dtype its elements are read as.
INPUT_DATATYPES: dict[str, str] = {
    "FP64": "<f8",
    "FP32": "<f4",
    "FP16": "<f2",
    "INT64": "<i8",
    "INT32": "<i4",
    "INT16": "<i2",
    "INT8": "i1",
    "UINT64": "<u8",
    "UINT32": "<u4",
    "UINT16": "<u2",
    "UINT8": "u1",
}
#: Protocol datatypes this model cannot take as input.
_UNSUPPORTED_DATATYPES = ("BOOL", "BYTES", "BF16")
#: The spec's keys, then those real clients add (the KServe SDK's ``InferRequest.to_rest``).
_REQUEST_KEYS = ("id", "parameters", "inputs", "outputs", "model_name", "model_version")
_INPUT_KEYS = ("name", "shape", "datatype", "parameters", "data")
_OUTPUT_KEYS = ("name", "parameters")
#: ``parameters.content_type`` understood on the request (MLServer's request codecs) and on
#: an input (its input codec: ``np``, a plain tensor, is what every numeric input is read as).
_REQUEST_CONTENT_TYPES = ("np", "pd")
_INPUT_CONTENT_TYPES = ("np",)
_FLOAT_TYPES = frozenset({int, float})
_INT_TYPES = frozenset({int})


class RequestedOutput(NamedTuple):
    """An output to return, and whether as binary data."""

    name: str
    binary: bool


#: numpy dtype of an input datatype → its ``struct`` code: to read a few binary rows, and to
#: round a few JSON numbers to a float datatype as numpy would.
_STRUCT_CODES = {
    "<f8": "d",
    "<f4": "f",
    "<f2": "e",
    "<i8": "q",
    "<i4": "i",
    "<i2": "h",
    "i1": "b",
    "<u8": "Q",
    "<u4": "I",
    "<u2": "H",
    "u1": "B",
}


class InferRequest(NamedTuple):
    """A decoded inference request: its id, the rows to score, the outputs to return.

    ``rows`` is a float64 array for a model whose features are all numbers, else rows of
    validated cells (numbers and categories) in feature order.
    """

    id: str | None
    rows: Rows | list[list[Cell]]
    outputs: tuple[RequestedOutput, ...]


def outputs(model: Model) -> dict[str, str]:
    """The model's outputs (name → datatype), by its task."""
    if model.task.type == REGRESSION:
        return _REGRESSION_OUTPUTS
    return {"predict_proba": OUTPUTS, "decision_function": _DECISION_OUTPUTS}.get(
        model.task.scores or "", _LABEL_OUTPUTS
    )


def split_body(body: bytes, header_length: str | None) -> tuple[bytes, memoryview]:
    """The JSON header and the binary section, split at ``Inference-Header-Content-Length``."""
    if header_length is None:
        return body, memoryview(b"")
    text = header_length.strip()
    if not (text.isascii() and text.isdigit()):
        raise InvalidInput(
            f"Inference-Header-Content-Length must be a byte count, got {header_length!r}"
        )
    size = int(text)
    if size > len(body):
        raise InvalidInput(
            f"Inference-Header-Content-Length is {size} but the body is only {len(body)} bytes"
        )
    return body[:size], memoryview(body)[size:]


def _object(value: Any, keys: tuple[str, ...], where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput(f"{where}: expected a JSON object, got {describe_value(value)}")
    for key in value:
        if key not in keys:
            raise InvalidInput(
                f"{where}: unknown key {describe_value(key)}; expected one of {list(keys)}"
            )
    return value


def _string(request: dict[str, Any], key: str) -> str | None:
    value = request.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{key}: expected a string, got {describe_value(value)}")
    return value


def request_target(header: Any) -> tuple[str | None, str | None]:
    """The ``model_name`` and ``model_version`` a request body names, if any."""
    if not isinstance(header, dict):
        return None, None  # parse_request says what is wrong with it
    return _string(header, "model_name"), _string(header, "model_version")


def _parameters(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{where}: expected a JSON object, got {describe_value(value)}")
    return value


def _flag(parameters: dict[str, Any], key: str, default: bool, where: str) -> bool:
    value = parameters.get(key, default)
    if not isinstance(value, bool):
        raise InvalidInput(f"{where}.{key}: expected true or false, got {describe_value(value)}")
    return value


def _content_type(parameters: dict[str, Any], where: str, understood: tuple[str, ...]) -> Any:
    value = parameters.get("content_type")
    if value is not None and value not in understood:
        raise InvalidInput(
            f"{where}.content_type: {describe_value(value)} is not understood here; "
            f"send {' or '.join(map(repr, understood))}, or none"
        )
    return value


def _datatype(value: Any, where: str) -> tuple[str, str]:
    if isinstance(value, str) and value in INPUT_DATATYPES:
        return value, INPUT_DATATYPES[value]
    accepted = ", ".join(INPUT_DATATYPES)
    if value in _UNSUPPORTED_DATATYPES:
        raise InvalidInput(
            f"{where}: {value} is not supported; this model takes numbers: send {accepted}"
        )
    raise InvalidInput(f"{where}: unknown datatype {describe_value(value)}; send {accepted}")


def _dims(value: Any) -> bool:
    return isinstance(value, list) and all(type(dim) is int for dim in value)


def _within_limit(rows: int, max_rows: int, where: str) -> int:
    if rows > max_rows:
        raise BatchTooLarge(
            f"{where}: {rows} rows is over the limit of {max_rows} per request; split the batch"
        )
    return rows


def _matrix_rows(value: Any, n_features: int, max_rows: int, where: str) -> int:
    if not (_dims(value) and len(value) == 2 and value[1] == n_features and value[0] >= 1):
        raise InvalidInput(
            f"{where}: expected [rows, {n_features}] with rows >= 1, got {describe_value(value)}"
        )
    return _within_limit(value[0], max_rows, where)


def _column_rows(value: Any, max_rows: int, where: str) -> int:
    if not (_dims(value) and len(value) in (1, 2) and value[1:] in ([], [1]) and value[0] >= 1):
        raise InvalidInput(
            f"{where}: expected [rows] or [rows, 1] (one column) with rows >= 1, "
            f"got {describe_value(value)}"
        )
    return _within_limit(value[0], max_rows, where)


def _place(index: int, columns: int) -> str:
    return f"element {index} (row {index // columns}, column {index % columns})"


class _Tensor(NamedTuple):
    """What an input tensor's header declares: where it is, its datatype and shape."""

    where: str
    datatype: str
    dtype: str  # numpy's little-endian code, e.g. "<f4"
    rows: int
    columns: int
    shape: str  # as declared, for messages

    @property
    def itemsize(self) -> int:
        return int(self.dtype[-1])

    @property
    def floating(self) -> bool:
        return self.dtype[-2] == "f"

    @property
    def elements(self) -> int:
        return self.rows * self.columns


class _BinarySection:
    """The bytes after the JSON header, handed to the binary inputs in their order."""

    def __init__(self, data: memoryview) -> None:
        self._data = data
        self._offset = 0

    def take(self, size: Any, tensor: _Tensor) -> memoryview:
        where = f"{tensor.where}.parameters.binary_data_size"
        if type(size) is not int or size < 0:
            raise InvalidInput(f"{where}: expected a byte count, got {describe_value(size)}")
        expected = tensor.elements * tensor.itemsize
        if size != expected:
            raise InvalidInput(
                f"{where}: {size} bytes do not match shape {tensor.shape} of {tensor.datatype} "
                f"({expected} bytes)"
            )
        return self.take_bytes(size, tensor.where)

    def take_bytes(self, size: Any, where: str) -> memoryview:
        """An input's next ``size`` bytes (a BYTES input's elements carry their own lengths)."""
        if type(size) is not int or size < 0:
            raise InvalidInput(
                f"{where}.parameters.binary_data_size: expected a byte count, "
                f"got {describe_value(size)}"
            )
        left = len(self._data) - self._offset
        if size > left:
            raise InvalidInput(
                f"{where}: the binary section is truncated: {left} bytes left for this "
                f"input, binary_data_size needs {size}"
            )
        self._offset += size
        return self._data[self._offset - size : self._offset]

    def finish(self) -> None:
        """Refuse bytes that no input claimed."""
        extra = len(self._data) - self._offset
        if extra:
            raise InvalidInput(
                f"the body has {extra} bytes after the JSON header that no input claims"
            )


def _flat_json(data: Any, tensor: _Tensor) -> list[Any]:
    """Row-major elements of flat or nested ``data``, checked against the shape."""
    where = f"{tensor.where}.data"
    if not isinstance(data, list):
        raise InvalidInput(f"{where}: expected a list of numbers, got {describe_value(data)}")
    flat: list[Any] = data
    if data and type(data[0]) is list:
        if len(data) != tensor.rows:
            raise InvalidInput(f"{where}: {len(data)} rows do not match shape {tensor.shape}")
        for i, row in enumerate(data):
            if type(row) is not list or len(row) != tensor.columns:
                raise InvalidInput(
                    f"{where}[{i}]: expected {tensor.columns} numbers, got {describe_value(row)}"
                )
        flat = list(itertools.chain.from_iterable(data))
    if len(flat) != tensor.elements:
        raise InvalidInput(
            f"{where}: {len(flat)} values do not match shape {tensor.shape} "
            f"({tensor.elements} values)"
        )
    return flat


def _rounded(flat: list[Any], tensor: _Tensor) -> list[float]:
    """``flat`` as float64 after rounding to the tensor's float datatype, without numpy: what
    ``np.array(flat, float64).astype(dtype).astype(float64)`` gives (a value beyond the
    datatype's range is infinite, refused later)."""
    try:
        values = [float(value) for value in flat]
    except OverflowError:
        raise InvalidInput(
            f"{tensor.where}.data: a value is out of range for {tensor.datatype}"
        ) from None
    code = "<" + _STRUCT_CODES[tensor.dtype]
    if code == "<d":
        return values
    packer = struct.Struct(code)
    pack, unpack = packer.pack, packer.unpack
    rounded = []
    for value in values:
        try:
            rounded.append(unpack(pack(value))[0])
        except OverflowError:
            rounded.append(math.copysign(math.inf, value))
    return rounded


def _check_types(flat: list[Any], tensor: _Tensor) -> None:
    """Refuse the first element that is not a number (an integer for an integer datatype)."""
    floating = tensor.floating
    allowed = _FLOAT_TYPES if floating else _INT_TYPES
    if not set(map(type, flat)) <= allowed:
        index = next(i for i, value in enumerate(flat) if type(value) not in allowed)
        raise InvalidInput(
            f"{tensor.where}.data: {_place(index, tensor.columns)}: expected "
            f"{'a number' if floating else 'an integer'} for {tensor.datatype}, "
            f"got {describe_value(flat[index])}"
        )


def _json_values(data: Any, tensor: _Tensor) -> list[float] | npt.NDArray[np.float64]:
    flat = _flat_json(data, tensor)
    floating, few = tensor.floating, tensor.rows <= PURE_PYTHON_ROWS
    numbers = None if few or not floating else float_array(flat)
    if numbers is None:
        _check_types(flat, tensor)
        if floating and few:
            return _rounded(flat, tensor)
    import numpy as np

    try:
        if floating:
            if numbers is None:  # only an integer beyond float64 gets here: OverflowError
                numbers = np.array(flat, dtype=np.float64)
            with np.errstate(over="ignore"):  # out of range becomes inf, refused later
                return numbers.astype(tensor.dtype).astype(np.float64)
        return np.array(flat, dtype=tensor.dtype).astype(np.float64)
    except OverflowError:
        raise InvalidInput(
            f"{tensor.where}.data: a value is out of range for {tensor.datatype}"
        ) from None


def _not_finite(tensor: _Tensor, index: int) -> InvalidInput:
    return InvalidInput(
        f"{tensor.where}: {_place(index, tensor.columns)} is not a finite {tensor.datatype} number"
    )


def _binary_values(raw: memoryview, tensor: _Tensor) -> list[float] | npt.NDArray[np.float64]:
    """A binary input's elements as float64: a list for a few rows (read with ``struct``, no
    numpy on a cold start; the same IEEE conversions as numpy's), else an array."""
    if tensor.rows <= PURE_PYTHON_ROWS:
        code = _STRUCT_CODES[tensor.dtype]
        return [float(value) for value in struct.unpack(f"<{tensor.elements}{code}", raw)]
    import numpy as np

    return np.frombuffer(raw, dtype=tensor.dtype).astype(np.float64)


def _values(
    header: dict[str, Any], section: _BinarySection, tensor: _Tensor
) -> list[float] | npt.NDArray[np.float64]:
    """The tensor's elements, row-major, as finite float64: from "data" or the binary section
    (a list for a few rows, else an array)."""
    where = tensor.where
    size = _parameters(header.get("parameters"), f"{where}.parameters").get("binary_data_size")
    values: list[float] | npt.NDArray[np.float64]
    if size is None:
        if "data" not in header:
            raise InvalidInput(f'{where}: no "data" and no parameters.binary_data_size')
        values = _json_values(header["data"], tensor)
    elif "data" in header:
        raise InvalidInput(f'{where}: send "data" or parameters.binary_data_size, not both')
    else:
        values = _binary_values(section.take(size, tensor), tensor)
    if isinstance(values, list):
        for index, value in enumerate(values):
            if not math.isfinite(value):
                raise _not_finite(tensor, index)
        return values
    import numpy as np

    finite = np.isfinite(values)
    if not finite.all():
        raise _not_finite(tensor, int(np.flatnonzero(~finite)[0]))
    return values


def _input_header(value: Any, where: str) -> dict[str, Any]:
    header = _object(value, _INPUT_KEYS, where)
    if not isinstance(header.get("name"), str):
        raise InvalidInput(
            f"{where}.name: expected a string, got {describe_value(header.get('name'))}"
        )
    parameters = _parameters(header.get("parameters"), f"{where}.parameters")
    _content_type(parameters, f"{where}.parameters", _INPUT_CONTENT_TYPES)
    return header


def _matrix(
    header: dict[str, Any], section: _BinarySection, n_features: int, max_rows: int
) -> Rows:
    """The rows from the one ``[rows, n_features]`` tensor, whatever its name."""
    where = "inputs[0]"
    datatype, dtype = _datatype(header.get("datatype"), f"{where}.datatype")
    rows = _matrix_rows(header.get("shape"), n_features, max_rows, f"{where}.shape")
    tensor = _Tensor(where, datatype, dtype, rows, n_features, f"[{rows}, {n_features}]")
    values = _values(header, section, tensor)
    if isinstance(values, list):
        return [values[start : start + n_features] for start in range(0, len(values), n_features)]
    return values.reshape(rows, n_features)


def _strings(
    header: dict[str, Any], section: _BinarySection, where: str, rows: int, shape: str
) -> list[str]:
    """A BYTES column's elements as text: JSON strings, or length-prefixed binary elements."""
    size = _parameters(header.get("parameters"), f"{where}.parameters").get("binary_data_size")
    if size is None:
        if "data" not in header:
            raise InvalidInput(f'{where}: no "data" and no parameters.binary_data_size')
        values = _flat_json(header["data"], _Tensor(where, "BYTES", "|O", rows, 1, shape))
        for i, value in enumerate(values):
            if type(value) is not str:
                raise InvalidInput(
                    f"{where}.data[{i}]: expected a string, got {describe_value(value)}"
                )
        return values
    if "data" in header:
        raise InvalidInput(f'{where}: send "data" or parameters.binary_data_size, not both')
    raw = bytes(section.take_bytes(size, where))
    texts: list[str] = []
    offset = 0
    try:
        while offset < len(raw):
            (length,) = struct.unpack_from("<I", raw, offset)
            texts.append(raw[offset + 4 : offset + 4 + length].decode())
            offset += 4 + length
    except (struct.error, UnicodeDecodeError):
        offset = -1  # a truncated length prefix, or an element that is not UTF-8
    if len(texts) != rows or offset != len(raw):
        raise InvalidInput(
            f"{where}: {size} bytes are not {rows} length-prefixed UTF-8 BYTES elements"
        )
    return texts


def _column(
    header: dict[str, Any], section: _BinarySection, max_rows: int, where: str, text: bool
) -> list[Any] | npt.NDArray[np.float64]:
    """One feature's values from its ``[rows]`` or ``[rows, 1]`` input (numbers, or text
    when ``text``: BYTES is accepted for a categorical feature)."""
    shape = header.get("shape")
    rows = _column_rows(shape, max_rows, f"{where}.shape")
    if text and header.get("datatype") == "BYTES":
        return _strings(header, section, where, rows, str(shape))
    datatype, dtype = _datatype(header.get("datatype"), f"{where}.datatype")
    return _values(header, section, _Tensor(where, datatype, dtype, rows, 1, str(shape)))


def _feature_columns(
    headers: list[dict[str, Any]],
    section: _BinarySection,
    schema: InputSchema,
    max_rows: int,
) -> dict[str, tuple[str, list[Any] | npt.NDArray[np.float64]]]:
    """Feature name → where its input is and its column, from one input per feature."""
    feature_names = schema.names
    columns: dict[str, tuple[str, list[Any] | npt.NDArray[np.float64]]] = {}
    for i, header in enumerate(headers):
        where = f"inputs[{i}]"
        name = header["name"]
        if name not in feature_names:
            raise InvalidInput(
                f"{where}.name: {describe_value(name)} is not a feature of this model; one "
                f"input per feature is named after it: {list(feature_names)}"
            )
        if name in columns:
            raise InvalidInput(f"{where}.name: feature {name} is sent twice")
        text = schema.features[schema.index[name]].type != NUMERIC
        column = _column(header, section, max_rows, where, text)
        first = next(iter(columns.values()), (where, column))[1]
        if len(column) != len(first):
            raise InvalidInput(
                f"{where}.shape: {len(column)} rows, but inputs[0] has {len(first)} rows"
            )
        columns[name] = (where, column)
    missing = [name for name in feature_names if name not in columns]
    if missing:
        raise InvalidInput(
            f"inputs: no input for {missing}; one input per feature needs all of "
            f"{list(feature_names)}"
        )
    return columns


def columns_to_rows(
    columns: Mapping[str, list[float] | npt.NDArray[np.float64]], feature_names: Sequence[str]
) -> Rows:
    """The ``(n, n_features)`` rows from feature name → column values, in feature order:
    lists when every column is a list, else an array."""
    ordered = [columns[name] for name in feature_names]
    if all(isinstance(column, list) for column in ordered):
        return [list(row) for row in zip(*ordered, strict=True)]
    import numpy as np

    return np.column_stack(ordered)


def _cell_rows(
    columns: Mapping[str, tuple[str, npt.NDArray[np.float64] | list[str]]], schema: InputSchema
) -> list[list[Cell]]:
    """Rows of validated cells from feature columns that hold categories."""
    checked = []
    for name, check in zip(schema.names, schema.checks, strict=True):
        where, column = columns[name]
        values = column if isinstance(column, list) else column.tolist()
        checked.append([check(value, f"{where}.data[{i}]") for i, value in enumerate(values)])
    return [list(row) for row in zip(*checked, strict=True)]


def _by_feature(
    headers: list[dict[str, Any]], content_type: Any, feature_names: Sequence[str]
) -> bool:
    """Whether the inputs are one column per feature, rather than one tensor of rows."""
    if content_type == "pd":
        return True
    if content_type == "np":
        if len(headers) != 1:
            raise InvalidInput(
                f'parameters.content_type: "np" is one tensor of rows, got {len(headers)} inputs'
            )
        return False
    return len(headers) > 1 or headers[0]["name"] in feature_names


def _requested_outputs(
    value: Any, binary_default: bool, available: dict[str, str]
) -> tuple[RequestedOutput, ...]:
    if value is None or value == []:
        return tuple(RequestedOutput(name, binary_default) for name in available)
    if not isinstance(value, list):
        raise InvalidInput(f"outputs: expected a list of outputs, got {describe_value(value)}")
    requested: list[RequestedOutput] = []
    for i, item in enumerate(value):
        where = f"outputs[{i}]"
        name = _object(item, _OUTPUT_KEYS, where).get("name")
        if not isinstance(name, str) or name not in available:
            raise InvalidInput(
                f"{where}.name: unknown output {describe_value(name)}; "
                f"this model has {list(available)}"
            )
        if any(output.name == name for output in requested):
            raise InvalidInput(f"{where}.name: {name} is requested twice")
        parameters = _parameters(item.get("parameters"), f"{where}.parameters")
        if parameters.get("classification"):
            raise InvalidInput(
                f"{where}.parameters.classification: the classification extension is not "
                "supported; request predict_proba and label"
            )
        binary = _flag(parameters, "binary_data", binary_default, f"{where}.parameters")
        requested.append(RequestedOutput(name, binary))
    return tuple(requested)


def parse_request(
    header: Any,
    binary: memoryview,
    schema: InputSchema | Sequence[str],
    max_rows: int,
    available: dict[str, str] = OUTPUTS,
) -> InferRequest:
    """Decode an inference request: its JSON header and the binary section after it.

    ``schema`` is the model's input schema (feature names alone: all numbers);
    ``available`` its outputs.
    """
    if not isinstance(schema, InputSchema):
        schema = InputSchema.numeric(schema)
    feature_names = schema.names
    request = _object(header, _REQUEST_KEYS, "the request")
    request_id = _string(request, "id")
    request_target(
        request
    )  # strings if present; irisserve.protocols.v2.routes checks the model they name
    parameters = _parameters(request.get("parameters"), "parameters")
    binary_default = _flag(parameters, "binary_data_output", False, "parameters")
    content_type = _content_type(parameters, "parameters", _REQUEST_CONTENT_TYPES)
    inputs = request.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise InvalidInput(
            f"inputs: expected a list of tensors: one [rows, {len(feature_names)}] tensor, or "
            f"one input per feature; got {describe_value(inputs)}"
        )
    headers = [_input_header(value, f"inputs[{i}]") for i, value in enumerate(inputs)]
    section = _BinarySection(binary)
    rows: Rows | list[list[Cell]]
    if _by_feature(headers, content_type, feature_names):
        columns = _feature_columns(headers, section, schema, max_rows)
        if schema.all_numeric:
            rows = columns_to_rows({k: v for k, (_, v) in columns.items()}, feature_names)
        else:
            rows = _cell_rows(columns, schema)
    elif schema.all_numeric:
        rows = _matrix(headers[0], section, len(feature_names), max_rows)
    else:
        raise InvalidInput(
            "inputs: this model has categorical features, so it takes one input per "
            f"feature (BYTES for categories, numbers for the rest): {feature_names}"
        )
    section.finish()
    requested = _requested_outputs(request.get("outputs"), binary_default, available)
    return InferRequest(id=request_id, rows=rows, outputs=requested)

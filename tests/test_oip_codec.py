"""irisserve.oip_codec: what the protocol's real clients send beyond tritonclient's form.

The KServe SDK's top-level ``model_name``; MLServer's ``NumpyRequestCodec`` (one tensor named
``input-1``, ``content_type`` ``np`` at both levels) and ``PandasCodec`` (one ``[n, 1]`` input
per feature column); and the per-feature decoding under it, ``columns_to_rows``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from irisserve import oip_codec
from irisserve.errors import BatchTooLarge, InvalidInput
from tests.support import IRIS_FEATURES as FEATURES
from tests.support import IRIS_ROWS

ROWS = np.array(IRIS_ROWS)


def parse(header: Any, binary: bytes = b"", max_rows: int = 10_000) -> oip_codec.InferRequest:
    return oip_codec.parse_request(header, memoryview(binary), FEATURES, max_rows)


def refusal(header: Any, binary: bytes = b"") -> str:
    with pytest.raises(InvalidInput) as caught:
        parse(header, binary)
    return str(caught.value)


def matrix(name: str = "input-0") -> dict[str, Any]:
    """ROWS as one JSON tensor of rows."""
    return {"name": name, "shape": [3, 4], "datatype": "FP64", "data": ROWS.ravel().tolist()}


def column(name: str, values: Any = None, **fields: Any) -> dict[str, Any]:
    """One feature's column of ROWS as PandasCodec sends it: shape [n, 1], FP64, flat data."""
    data = ROWS[:, FEATURES.index(name)].tolist() if values is None else values
    return {"name": name, "shape": [len(data), 1], "datatype": "FP64", "data": data, **fields}


def columns(**replaced: dict[str, Any]) -> list[dict[str, Any]]:
    """Every feature's column, with some replaced by name."""
    return [replaced.get(name, column(name)) for name in FEATURES]


def binary_column(name: str, datatype: str) -> tuple[dict[str, Any], bytes]:
    raw = ROWS[:, FEATURES.index(name)].astype(oip_codec.INPUT_DATATYPES[datatype]).tobytes()
    spec = {"name": name, "shape": [3], "datatype": datatype}
    return {**spec, "parameters": {"binary_data_size": len(raw)}}, raw


# --- top-level keys --------------------------------------------------------------------------


def test_kserve_sdk_model_name_is_accepted_and_reported() -> None:
    header = {"id": "abc", "model_name": "iris", "inputs": [matrix()]}
    request = parse(header)
    np.testing.assert_array_equal(request.rows, ROWS)
    assert request.id == "abc"
    assert oip_codec.request_target(header) == ("iris", None)
    assert oip_codec.request_target({"model_version": "1.0.0"}) == (None, "1.0.0")
    assert oip_codec.request_target([1]) == (None, None)  # not an object: parse_request says so


@pytest.mark.parametrize("key", ["model_name", "model_version"])
def test_model_name_and_version_must_be_strings(key: str) -> None:
    assert f"{key}: expected a string, got 3" in refusal({key: 3, "inputs": [matrix()]})
    with pytest.raises(InvalidInput, match=f"{key}: expected a string"):
        oip_codec.request_target({key: ["iris"]})


def test_other_unknown_top_level_keys_are_refused_by_name() -> None:
    message = refusal({"inputs": [matrix()], "output": [{"name": "label"}]})
    assert 'unknown key "output"' in message
    assert "model_name" in message  # the accepted keys are listed


def test_unknown_parameters_are_ignored_at_every_level() -> None:
    header = {
        "parameters": {"headers": {"x": "y"}, "anything": [1]},
        "inputs": [{**matrix(), "parameters": {"custom": True}}],
        "outputs": [{"name": "label", "parameters": {"custom": 1}}],
    }
    request = parse(header)
    np.testing.assert_array_equal(request.rows, ROWS)
    assert request.outputs == (oip_codec.RequestedOutput("label", binary=False),)


# --- one tensor of rows, under any name ------------------------------------------------------


@pytest.mark.parametrize("name", ["input-0", "input-1", "predict", "x"])
def test_the_one_tensor_of_rows_may_have_any_name(name: str) -> None:
    np.testing.assert_array_equal(parse({"inputs": [matrix(name)]}).rows, ROWS)


def test_numpy_request_codec_content_types() -> None:
    """MLServer's NumpyRequestCodec: input-1, content_type np on the request and the input."""
    tensor = {**matrix("input-1"), "parameters": {"content_type": "np"}}
    request = parse({"parameters": {"content_type": "np"}, "inputs": [tensor]})
    np.testing.assert_array_equal(request.rows, ROWS)


def test_np_content_type_makes_a_feature_named_tensor_a_tensor_of_rows() -> None:
    header = {"parameters": {"content_type": "np"}, "inputs": [matrix("sepal_length")]}
    np.testing.assert_array_equal(parse(header).rows, ROWS)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (
            {"parameters": {"content_type": "np"}, "inputs": columns()},
            '"np" is one tensor of rows, got 4 inputs',
        ),
        (
            {"parameters": {"content_type": "pd_json"}, "inputs": [matrix()]},
            "parameters.content_type: \"pd_json\" is not understood here; send 'np' or 'pd'",
        ),
        (
            {"inputs": [{**matrix(), "parameters": {"content_type": "base64"}}]},
            'inputs[0].parameters.content_type: "base64" is not understood',
        ),
        ({"parameters": {"content_type": 5}, "inputs": [matrix()]}, "content_type: 5 is not"),
        ({"inputs": [{**matrix(), "name": 7}]}, "inputs[0].name: expected a string, got 7"),
        ({"inputs": [{**matrix(), "shape": [3]}]}, "inputs[0].shape: expected [rows, 4]"),
        ({"inputs": []}, "inputs: expected a list of tensors: one [rows, 4] tensor, or one"),
    ],
)
def test_tensor_of_rows_refusals(header: Any, message: str) -> None:
    assert message in refusal(header)


# --- one input per feature (MLServer's PandasCodec) ------------------------------------------


def test_pandas_codec_columns_give_the_rows_of_the_tensor() -> None:
    pandas = parse({"parameters": {"content_type": "pd"}, "inputs": columns()})
    plain = parse({"inputs": columns()})  # several inputs are columns without content_type
    np.testing.assert_array_equal(pandas.rows, ROWS)
    np.testing.assert_array_equal(plain.rows, ROWS)
    assert pandas.rows == ROWS.tolist()  # a few rows of floats: Python lists, no numpy


def test_many_rows_of_columns_are_one_contiguous_array() -> None:
    many = np.tile(ROWS, (3, 1))
    inputs = [
        {"name": name, "shape": [9], "datatype": "FP64", "data": many[:, i].tolist()}
        for i, name in enumerate(FEATURES)
    ]
    rows = parse({"inputs": inputs}).rows
    assert isinstance(rows, np.ndarray)
    assert rows.dtype == np.float64
    assert rows.flags.c_contiguous
    np.testing.assert_array_equal(rows, many)


def test_columns_in_any_order_and_any_column_shape_and_datatype() -> None:
    inputs = [
        column("petal_width", ROWS[:, 3].astype(np.float32).tolist(), datatype="FP32"),
        {**column("sepal_width"), "shape": [3]},
        {**column("sepal_length"), "data": [[v] for v in ROWS[:, 0].tolist()]},
        column("petal_length", [1, 5, 4], datatype="INT64"),
    ]
    rows = parse({"inputs": inputs}).rows
    expected = ROWS.copy()
    expected[:, 2] = [1, 5, 4]
    expected[:, 3] = ROWS[:, 3].astype(np.float32)
    np.testing.assert_array_equal(rows, expected)


def test_binary_columns_are_read_in_input_order() -> None:
    inputs, chunks = [], []
    for name, datatype in zip(FEATURES, ["FP64", "FP32", "FP64", "FP32"], strict=True):
        spec, raw = binary_column(name, datatype)
        inputs.append(spec)
        chunks.append(raw)
    inputs[1], inputs[2] = inputs[2], inputs[1]  # the section follows the inputs, not features
    chunks[1], chunks[2] = chunks[2], chunks[1]
    inputs[3] = column("petal_width")  # a JSON column between binary ones takes no bytes
    del chunks[3]
    rows = parse({"inputs": inputs}, b"".join(chunks)).rows
    np.testing.assert_array_equal(rows[:, [0, 2, 3]], ROWS[:, [0, 2, 3]])
    np.testing.assert_array_equal(rows[:, 1], ROWS[:, 1].astype(np.float32))


def test_a_single_feature_named_input_is_a_column() -> None:
    message = refusal({"inputs": [column("sepal_length")]})
    assert "inputs: no input for ['sepal_width', 'petal_length', 'petal_width']" in message


def test_columns_to_rows_follows_the_feature_order() -> None:
    by_name = {name: ROWS[:, i] for i, name in enumerate(FEATURES)}
    reordered = dict(reversed(list(by_name.items())))
    np.testing.assert_array_equal(oip_codec.columns_to_rows(reordered, FEATURES), ROWS)


def _without(name: str) -> list[dict[str, Any]]:
    return [spec for spec in columns() if spec["name"] != name]


COLUMN_REFUSALS: list[tuple[str, Any, bytes, str]] = [
    ("missing", {"inputs": _without("petal_width")}, b"", "no input for ['petal_width']"),
    (
        "unknown name",
        {"inputs": [*_without("petal_width"), {**column("sepal_length"), "name": "petal_wdth"}]},
        b"",
        'inputs[3].name: "petal_wdth" is not a feature of this model',
    ),
    (
        "twice",
        {"inputs": [*columns(), column("sepal_length")]},
        b"",
        "inputs[4].name: feature sepal_length is sent twice",
    ),
    (
        "pd and a tensor of rows",
        {"parameters": {"content_type": "pd"}, "inputs": [matrix()]},
        b"",
        '"input-0" is not a feature',
    ),
    (
        "row counts differ",
        {"inputs": columns(petal_length=column("petal_length", [1.0, 2.0]))},
        b"",
        "inputs[2].shape: 2 rows, but inputs[0] has 3 rows",
    ),
    (
        "two columns",
        {"inputs": columns(sepal_width={**column("sepal_width"), "shape": [3, 2]})},
        b"",
        "inputs[1].shape: expected [rows] or [rows, 1] (one column) with rows >= 1, got [3, 2]",
    ),
    (
        "empty shape",
        {"inputs": columns(sepal_width={**column("sepal_width"), "shape": []})},
        b"",
        "inputs[1].shape: expected [rows] or [rows, 1]",
    ),
    (
        "BYTES column",
        {"inputs": columns(sepal_width=column("sepal_width", ["a", "b", "c"], datatype="BYTES"))},
        b"",
        "inputs[1].datatype: BYTES is not supported; this model takes numbers",
    ),
    (
        "too few values",
        {"inputs": columns(petal_width={**column("petal_width"), "shape": [4, 1]})},
        b"",
        "inputs[3].data: 3 values do not match shape [4, 1] (4 values)",
    ),
    (
        "too few values, shape [n]",
        {"inputs": columns(petal_width={**column("petal_width"), "shape": [4]})},
        b"",
        "inputs[3].data: 3 values do not match shape [4] (4 values)",
    ),
    (
        "binary size of a column",
        {
            "inputs": [
                *_without("petal_width"),
                {**binary_column("petal_width", "FP64")[0], "datatype": "FP32", "shape": [3, 1]},
            ]
        },
        bytes(24),
        "inputs[3].parameters.binary_data_size: 24 bytes do not match shape [3, 1] of FP32 "
        "(12 bytes)",
    ),
    (
        "string value",
        {"inputs": columns(petal_width=column("petal_width", [1.0, "x", 2.0]))},
        b"",
        'inputs[3].data: element 1 (row 1, column 0): expected a number for FP64, got "x"',
    ),
    (
        "null (a NaN from the codecs)",
        {"inputs": columns(sepal_length=column("sepal_length", [1.0, None, 2.0]))},
        b"",
        "inputs[0].data: element 1 (row 1, column 0): expected a number for FP64, got null",
    ),
    (
        "NaN in binary",
        {"inputs": [*_without("petal_width"), binary_column("petal_width", "FP64")[0]]},
        np.array([1.0, np.nan, 2.0]).tobytes(),
        "inputs[3]: element 1 (row 1, column 0) is not a finite FP64 number",
    ),
    (
        "second binary input truncated",
        {"inputs": [binary_column(name, "FP64")[0] for name in FEATURES]},
        bytes(24 + 10),
        "inputs[1]: the binary section is truncated: 10 bytes left for this input",
    ),
    (
        "bytes no input claims",
        {"inputs": [binary_column(name, "FP64")[0] for name in FEATURES]},
        bytes(4 * 24 + 3),
        "the body has 3 bytes after the JSON header that no input claims",
    ),
]


@pytest.mark.parametrize(
    ("header", "binary", "message"),
    [case[1:] for case in COLUMN_REFUSALS],
    ids=[case[0] for case in COLUMN_REFUSALS],
)
def test_column_refusals_name_the_place(header: Any, binary: bytes, message: str) -> None:
    assert message in refusal(json.loads(json.dumps(header)), binary)


def test_a_column_over_the_row_limit_is_batch_too_large() -> None:
    with pytest.raises(BatchTooLarge, match=r"inputs\[0\].shape: 3 rows is over the limit of 2"):
        parse({"inputs": columns()}, max_rows=2)

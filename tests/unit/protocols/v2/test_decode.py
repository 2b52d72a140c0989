"""irisserve.protocols.v2.decode: the Open Inference Protocol (V2) request decoder, splitting
the body, decoding inputs JSON and binary (one tensor under any name, or one input per
feature, as the KServe SDK and MLServer's codecs send them)."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pytest

from irisserve.artifact.manifest import CATEGORICAL, Feature
from irisserve.errors import BatchTooLarge, InvalidInput
from irisserve.protocols.v2 import decode
from irisserve.schema import InputSchema
from tests.helpers.support import IRIS_FEATURES, IRIS_ROWS, v2_binary_request, v2_tensor

ROWS = np.array(IRIS_ROWS)


def parse(header: Any, binary: bytes = b"", max_rows: int = 10_000) -> decode.InferRequest:
    return decode.parse_request(header, memoryview(binary), IRIS_FEATURES, max_rows)


def parse_body(body: bytes, header_length: str | None) -> decode.InferRequest:
    header, binary = decode.split_body(body, header_length)
    return parse(json.loads(header), bytes(binary))


# --- splitting the body -------------------------------------------------------------


def test_split_body_without_header_length_is_all_json() -> None:
    header, binary = decode.split_body(b'{"a": 1}', None)
    assert header == b'{"a": 1}'
    assert len(binary) == 0


def test_split_body_at_header_length() -> None:
    header, binary = decode.split_body(b"{}\x01\x02", "2")
    assert header == b"{}"
    assert bytes(binary) == b"\x01\x02"


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "", "0x10", "\u0663"])
def test_split_body_refuses_a_header_length_that_is_not_a_byte_count(value: str) -> None:
    with pytest.raises(InvalidInput, match="Inference-Header-Content-Length"):
        decode.split_body(b"{}", value)


def test_split_body_refuses_a_header_length_past_the_body() -> None:
    with pytest.raises(InvalidInput, match="is 10 but the body is only 2 bytes"):
        decode.split_body(b"{}", "10")


# --- decoding inputs ----------------------------------------------------------------


def test_nested_and_flat_json_data_give_the_same_rows() -> None:
    nested = parse({"inputs": [v2_tensor()]})
    flat = parse({"inputs": [v2_tensor(ROWS.ravel().tolist())]})
    np.testing.assert_array_equal(nested.rows, ROWS)
    np.testing.assert_array_equal(flat.rows, ROWS)
    assert nested.rows == ROWS.tolist()  # a few rows of floats: Python lists, no numpy


def test_more_rows_than_the_pure_python_path_decode_to_an_array() -> None:
    rows = np.tile(ROWS, (3, 1))  # 9 rows
    request = parse({"inputs": [v2_tensor(rows.tolist(), shape=[9, 4])]})
    assert isinstance(request.rows, np.ndarray)
    assert request.rows.dtype == np.float64
    np.testing.assert_array_equal(request.rows, rows)


def _random_floats(count: int) -> list[float]:
    """Floats of every magnitude float16 and float32 have (normal, subnormal, overflowing),
    and the halfway points between neighbouring float16/float32 values."""
    rng = np.random.default_rng(15)
    values = rng.standard_normal(count) * 10.0 ** rng.integers(-45, 40, count)
    halfway = []
    for dtype in (np.float16, np.float32):
        small = rng.standard_normal(count // 4).astype(dtype)
        halfway += ((small.astype(np.float64) + np.nextafter(small, np.inf)) / 2).tolist()
    edges = [65504.0, 65519.99, 65520.0, -65520.0, 3.4028235e38, 3.4028236e38, 3.5e38, 1e-8]
    return values.tolist() + halfway + edges


@pytest.mark.parametrize("datatype", ["FP64", "FP32", "FP16"])
def test_a_few_json_rows_round_like_numpy(datatype: str) -> None:
    dtype = decode.INPUT_DATATYPES[datatype]
    values = _random_floats(4000)
    with np.errstate(over="ignore"):
        expected = np.array(values).astype(dtype).astype(np.float64)
    finite = np.isfinite(expected)
    for index in range(0, len(values), 4):
        row = values[index : index + 4]
        if not finite[index : index + 4].all():
            with pytest.raises(InvalidInput, match=f"is not a finite {datatype} number"):
                parse({"inputs": [v2_tensor([row], shape=[1, 4], datatype=datatype)]})
            continue
        rows = parse({"inputs": [v2_tensor([row], shape=[1, 4], datatype=datatype)]}).rows
        assert rows == [expected[index : index + 4].tolist()]


def test_fp32_json_data_is_read_as_fp32() -> None:
    rows = np.asarray(parse({"inputs": [v2_tensor(datatype="FP32")]}).rows)
    np.testing.assert_array_equal(rows, ROWS.astype(np.float32).astype(np.float64))
    assert rows[0, 0] != 5.1  # 5.1 has no exact float32


@pytest.mark.parametrize(("datatype", "largest"), [("INT64", 2**40), ("INT8", 127), ("UINT8", 255)])
def test_integer_json_data(datatype: str, largest: int) -> None:
    data = [[5, 3, 1, 0], [6, 3, 5, 2], [largest, 0, 4, 1]]
    rows = parse({"inputs": [v2_tensor(data, datatype=datatype)]}).rows
    np.testing.assert_array_equal(rows, np.array(data, dtype=np.float64))


@pytest.mark.parametrize("datatype", ["FP64", "FP32", "FP16", "INT32", "UINT16"])
def test_binary_input_round_trips(datatype: str) -> None:
    rows = np.rint(ROWS) if datatype[0] in "IU" else ROWS
    body, header_length = v2_binary_request(rows, datatype)
    decoded = parse_body(body, header_length).rows
    expected = rows.astype(decode.INPUT_DATATYPES[datatype]).astype(np.float64)
    np.testing.assert_array_equal(decoded, expected)


@pytest.mark.parametrize("datatype", sorted(decode.INPUT_DATATYPES))
def test_a_few_binary_rows_read_without_numpy_as_numpy_reads_many(datatype: str) -> None:
    dtype = np.dtype(decode.INPUT_DATATYPES[datatype])
    rng = np.random.default_rng(23)
    if dtype.kind == "f":
        with np.errstate(over="ignore"):
            values = np.array(_random_floats(400)).astype(dtype)
        values = values[np.isfinite(values)][:160]
    else:
        info = np.iinfo(dtype)
        values = rng.integers(info.min, info.max, 160, dtype=dtype, endpoint=True)
    rows = values.reshape(-1, 4)
    expected = rows.astype(np.float64)
    for start in range(0, len(rows), 2):  # two rows at a time: struct, no numpy
        body, header_length = v2_binary_request(rows[start : start + 2], datatype)
        assert parse_body(body, header_length).rows == expected[start : start + 2].tolist()
    body, header_length = v2_binary_request(rows, datatype)  # 40 rows: numpy
    np.testing.assert_array_equal(parse_body(body, header_length).rows, expected)


def test_binary_input_is_little_endian() -> None:
    raw = ROWS.astype(">f8").tobytes()  # big-endian bytes must not decode to ROWS
    header = {"inputs": [v2_tensor(None, parameters={"binary_data_size": len(raw)})]}
    del header["inputs"][0]["data"]
    decoded = parse(header, raw).rows
    assert not np.array_equal(decoded, ROWS)
    np.testing.assert_array_equal(parse(header, ROWS.astype("<f8").tobytes()).rows, ROWS)


def test_a_large_binary_batch_decodes_exactly() -> None:
    rows = np.random.default_rng(7).uniform(0.0, 8.0, size=(10_000, 4))
    body, header_length = v2_binary_request(rows)
    np.testing.assert_array_equal(parse_body(body, header_length).rows, rows)


def test_request_id_and_default_outputs() -> None:
    request = parse({"id": "req-1", "inputs": [v2_tensor()]})
    assert request.id == "req-1"
    assert [o.name for o in request.outputs] == ["predict", "predict_proba", "label"]
    assert not any(o.binary for o in request.outputs)
    assert parse({"inputs": [v2_tensor()]}).id is None


def test_binary_data_output_and_per_output_override() -> None:
    request = parse(
        {
            "inputs": [v2_tensor()],
            "parameters": {"binary_data_output": True},
            "outputs": [
                {"name": "label"},
                {"name": "predict", "parameters": {"binary_data": False}},
            ],
        }
    )
    assert request.outputs == (
        decode.RequestedOutput("label", binary=True),
        decode.RequestedOutput("predict", binary=False),
    )
    everything = parse({"inputs": [v2_tensor()], "parameters": {"binary_data_output": True}})
    assert all(o.binary for o in everything.outputs)


def _without_data(**fields: Any) -> dict[str, Any]:
    spec = v2_tensor(**fields)
    del spec["data"]
    return spec


BAD_REQUESTS: list[tuple[str, Any, bytes, str]] = [
    ("not an object", [1, 2], b"", "expected a JSON object"),
    ("unknown key", {"inputs": [v2_tensor()], "input": 1}, b"", 'unknown key "input"'),
    ("id not a string", {"id": 7, "inputs": [v2_tensor()]}, b"", "id: expected a string"),
    ("parameters", {"inputs": [v2_tensor()], "parameters": [1]}, b"", "parameters: expected"),
    ("no inputs", {"outputs": []}, b"", "inputs: expected a list of tensors"),
    ("two inputs", {"inputs": [v2_tensor(), v2_tensor()]}, b"", '"input-0" is not a feature'),
    ("unknown datatype", {"inputs": [v2_tensor(datatype="FP128")]}, b"", "unknown datatype"),
    ("BYTES input", {"inputs": [v2_tensor(datatype="BYTES")]}, b"", "BYTES is not supported"),
    ("shape 1-D", {"inputs": [v2_tensor(shape=[12])]}, b"", "expected [rows, 4]"),
    ("shape columns", {"inputs": [v2_tensor(shape=[3, 5])]}, b"", "expected [rows, 4]"),
    ("shape zero rows", {"inputs": [v2_tensor([], shape=[0, 4])]}, b"", "rows >= 1"),
    ("shape negative", {"inputs": [v2_tensor(shape=[-1, 4])]}, b"", "rows >= 1"),
    ("shape bool", {"inputs": [v2_tensor(shape=[True, 4])]}, b"", "expected [rows, 4]"),
    ("flat too short", {"inputs": [v2_tensor([1.0] * 8)]}, b"", "8 values do not match"),
    ("nested rows", {"inputs": [v2_tensor(ROWS[:2].tolist())]}, b"", "2 rows do not match"),
    ("nested row", {"inputs": [v2_tensor([[1, 2, 3, 4], [1, 2], [1, 2, 3, 4]])]}, b"", "data[1]"),
    ("data not a list", {"inputs": [v2_tensor("abc")]}, b"", "expected a list of numbers"),
    ("string", {"inputs": [v2_tensor([1.0] * 5 + ["x"] + [1.0] * 6)]}, b"", "element 5 (row 1"),
    ("bool", {"inputs": [v2_tensor([True] + [1.0] * 11)]}, b"", "got true"),
    ("null", {"inputs": [v2_tensor([None] + [1.0] * 11)]}, b"", "got null"),
    ("float as INT", {"inputs": [v2_tensor(datatype="INT64")]}, b"", "expected an integer"),
    ("UINT8 range", {"inputs": [v2_tensor([300] * 12, datatype="UINT8")]}, b"", "out of range"),
    ("huge int", {"inputs": [v2_tensor([10**400] * 12)]}, b"", "out of range for FP64"),
    ("FP32 overflow", {"inputs": [v2_tensor([1e300] * 12, datatype="FP32")]}, b"", "finite FP32"),
    ("no data", {"inputs": [_without_data()]}, b"", 'no "data"'),
    (
        "data and binary",
        {"inputs": [v2_tensor(parameters={"binary_data_size": 96})]},
        bytes(96),
        "not both",
    ),
    (
        "binary size",
        {"inputs": [_without_data(parameters={"binary_data_size": 95})]},
        bytes(95),
        "95 bytes do not match shape [3, 4] of FP64 (96 bytes)",
    ),
    (
        "binary size type",
        {"inputs": [_without_data(parameters={"binary_data_size": "96"})]},
        bytes(96),
        "expected a byte count",
    ),
    (
        "truncated binary",
        {"inputs": [_without_data(parameters={"binary_data_size": 96})]},
        bytes(50),
        "truncated: 50 bytes",
    ),
    (
        "binary without header length",
        {"inputs": [_without_data(parameters={"binary_data_size": 96})]},
        b"",
        "truncated: 0 bytes",
    ),
    (
        "extra binary bytes",
        {"inputs": [_without_data(parameters={"binary_data_size": 96})]},
        bytes(100),
        "4 bytes after the JSON header",
    ),
    ("bytes after json data", {"inputs": [v2_tensor()]}, bytes(8), "8 bytes after the JSON"),
    (
        "NaN in binary",
        {"inputs": [_without_data(parameters={"binary_data_size": 96})]},
        np.array([1.0] * 6 + [np.nan] + [1.0] * 5).tobytes(),
        "element 6 (row 1, column 2) is not a finite FP64",
    ),
    (
        "inf in binary",
        {"inputs": [_without_data(parameters={"binary_data_size": 96})]},
        np.array([np.inf] + [1.0] * 11).tobytes(),
        "element 0 (row 0, column 0)",
    ),
    ("outputs not a list", {"inputs": [v2_tensor()], "outputs": "label"}, b"", "outputs: expected"),
    (
        "unknown output",
        {"inputs": [v2_tensor()], "outputs": [{"name": "probabilities"}]},
        b"",
        'unknown output "probabilities"',
    ),
    (
        "duplicate output",
        {"inputs": [v2_tensor()], "outputs": [{"name": "label"}, {"name": "label"}]},
        b"",
        "requested twice",
    ),
    (
        "classification",
        {
            "inputs": [v2_tensor()],
            "outputs": [{"name": "label", "parameters": {"classification": 2}}],
        },
        b"",
        "classification extension is not supported",
    ),
    (
        "binary_data not bool",
        {"inputs": [v2_tensor()], "outputs": [{"name": "label", "parameters": {"binary_data": 1}}]},
        b"",
        "binary_data: expected true or false",
    ),
]


@pytest.mark.parametrize(
    ("header", "binary", "message"),
    [case[1:] for case in BAD_REQUESTS],
    ids=[case[0] for case in BAD_REQUESTS],
)
def test_bad_requests_say_what_is_wrong(header: Any, binary: bytes, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse(header, binary)
    assert message in str(caught.value)


ELEMENT_REFUSALS: list[tuple[dict[int, Any], str]] = [
    (
        {5: True},
        "inputs[0].data: element 5 (row 1, column 1): expected a number for FP32, got true",
    ),
    (
        {5: 1.0, 6: False, 7: 0},
        "inputs[0].data: element 6 (row 1, column 2): expected a number for FP32, got false",
    ),
    (
        {5: True, 9: "x"},
        "inputs[0].data: element 5 (row 1, column 1): expected a number for FP32, got true",
    ),
    (
        {5: "x", 9: True},
        'inputs[0].data: element 5 (row 1, column 1): expected a number for FP32, got "x"',
    ),
    (
        {5: 10**400, 9: "x"},
        'inputs[0].data: element 9 (row 2, column 1): expected a number for FP32, got "x"',
    ),
    (
        {5: None},
        "inputs[0].data: element 5 (row 1, column 1): expected a number for FP32, got null",
    ),
    (
        {5: [1.0]},
        "inputs[0].data: element 5 (row 1, column 1): expected a number for FP32, got [1.0]",
    ),
    (
        {11: {"a": 1}},
        'inputs[0].data: element 11 (row 2, column 3): expected a number for FP32, got {"a": 1}',
    ),
    ({5: 10**400}, "inputs[0].data: a value is out of range for FP32"),
    ({0: 1e300}, "inputs[0]: element 0 (row 0, column 0) is not a finite FP32 number"),
]


@pytest.mark.parametrize("rows", [3, 9, 500])
@pytest.mark.parametrize("nested", [False, True])
@pytest.mark.parametrize("fill", [1.5, 1.0])  # booleans hide among ones: a few, or everywhere
@pytest.mark.parametrize(("bad", "message"), ELEMENT_REFUSALS)
def test_every_batch_size_refuses_the_first_element_that_is_not_a_number(
    bad: dict[int, Any], message: str, rows: int, nested: bool, fill: float
) -> None:
    """A few rows are read in Python, more with numpy: the same element is refused alike."""
    flat: list[Any] = [fill] * (4 * rows)
    for index, value in bad.items():
        flat[index] = value
    data = [flat[start : start + 4] for start in range(0, len(flat), 4)] if nested else flat
    with pytest.raises(InvalidInput) as caught:
        parse({"inputs": [v2_tensor(data, shape=[rows, 4], datatype="FP32")]})
    assert str(caught.value) == message


@pytest.mark.parametrize("rows", [3, 500])
def test_zeros_and_ones_as_integers_and_floats_are_numbers(rows: int) -> None:
    flat = [0, 1, 0.0, 1.0, -0.0, 2, 0.5, 1e-300] * (rows // 2) + [1.0] * (4 * (rows % 2))
    decoded = parse({"inputs": [v2_tensor(flat, shape=[rows, 4], datatype="FP32")]}).rows
    np.testing.assert_array_equal(decoded, np.array(flat).astype(np.float32).reshape(rows, 4))


def test_too_many_rows_is_batch_too_large() -> None:
    with pytest.raises(BatchTooLarge, match="3 rows is over the limit of 2"):
        parse({"inputs": [v2_tensor()]}, max_rows=2)


# --- a model with categories (one input per feature, BYTES for a category) ----------

MIXED = InputSchema(
    [
        Feature("age", nullable=True),
        Feature("port", CATEGORICAL, categories=["C", "Q", "S"]),
        Feature("sex", CATEGORICAL, categories=["f", "m"], unknown="ignore"),
    ]
)


def mixed(inputs: list[dict[str, Any]], binary: bytes = b"") -> decode.InferRequest:
    return decode.parse_request({"inputs": inputs}, memoryview(binary), MIXED, 100)


def prefixed(*texts: str) -> bytes:
    return b"".join(len(t.encode()).to_bytes(4, "little") + t.encode() for t in texts)


def test_bytes_columns_become_rows_of_numbers_and_categories() -> None:
    request = mixed(
        [
            {"name": "sex", "datatype": "BYTES", "shape": [2], "data": ["m", "x"]},
            {"name": "age", "datatype": "INT64", "shape": [2, 1], "data": [[30], [41]]},
            {"name": "port", "datatype": "BYTES", "shape": [2, 1], "data": [["S"], ["C"]]},
        ]
    )
    assert request.rows == [[30.0, "S", "m"], [41.0, "C", "x"]]


def test_binary_bytes_columns_are_length_prefixed() -> None:
    data = prefixed("Q", "S")
    request = mixed(
        [
            {"name": "age", "datatype": "FP64", "shape": [2], "data": [1.5, 2.5]},
            {
                "name": "port",
                "datatype": "BYTES",
                "shape": [2],
                "parameters": {"binary_data_size": len(data)},
            },
            {"name": "sex", "datatype": "BYTES", "shape": [2], "data": ["f", "f"]},
        ],
        data,
    )
    assert request.rows == [[1.5, "Q", "f"], [2.5, "S", "f"]]


@pytest.mark.parametrize(
    ("port", "binary", "message"),
    [
        ({"data": ["X"]}, b"", 'inputs[1].data[0]: "X" is not one of C, Q, S'),
        ({"data": [3]}, b"", "inputs[1].data[0]: expected a string, got 3"),
        ({"parameters": {"binary_data_size": 4}}, prefixed("S")[:4], "not 1 length-prefixed"),
        ({"parameters": {"binary_data_size": 6}}, b"\x02\x00\x00\x00\xff\xfe", "UTF-8"),
        ({"parameters": {"binary_data_size": 9}}, prefixed("S"), "truncated"),
    ],
)
def test_bad_bytes_columns_name_the_place(
    port: dict[str, Any], binary: bytes, message: str
) -> None:
    inputs = [
        {"name": "age", "datatype": "FP64", "shape": [1], "data": [1.0]},
        {"name": "port", "datatype": "BYTES", "shape": [1], **port},
        {"name": "sex", "datatype": "BYTES", "shape": [1], "data": ["m"]},
    ]
    with pytest.raises(InvalidInput, match=re.escape(message)):
        mixed(inputs, binary)


def test_a_model_with_categories_takes_no_single_tensor() -> None:
    tensor = {"name": "input-0", "datatype": "FP64", "shape": [1, 3], "data": [1.0, 2.0, 3.0]}
    with pytest.raises(InvalidInput, match="one input per feature"):
        mixed([tensor])


def test_a_number_feature_refuses_bytes() -> None:
    with pytest.raises(InvalidInput, match=r"inputs\[0\].datatype: BYTES is not supported"):
        mixed([{"name": "age", "datatype": "BYTES", "shape": [1], "data": ["1"]}])


def refusal(header: Any, binary: bytes = b"") -> str:
    with pytest.raises(InvalidInput) as caught:
        parse(header, binary)
    return str(caught.value)


def matrix(name: str = "input-0") -> dict[str, Any]:
    """ROWS as one JSON tensor of rows."""
    return {"name": name, "shape": [3, 4], "datatype": "FP64", "data": ROWS.ravel().tolist()}


def column(name: str, values: Any = None, **fields: Any) -> dict[str, Any]:
    """One feature's column of ROWS as PandasCodec sends it: shape [n, 1], FP64, flat data."""
    data = ROWS[:, IRIS_FEATURES.index(name)].tolist() if values is None else values
    return {"name": name, "shape": [len(data), 1], "datatype": "FP64", "data": data, **fields}


def columns(**replaced: dict[str, Any]) -> list[dict[str, Any]]:
    """Every feature's column, with some replaced by name."""
    return [replaced.get(name, column(name)) for name in IRIS_FEATURES]


def binary_column(name: str, datatype: str) -> tuple[dict[str, Any], bytes]:
    raw = ROWS[:, IRIS_FEATURES.index(name)].astype(decode.INPUT_DATATYPES[datatype]).tobytes()
    spec = {"name": name, "shape": [3], "datatype": datatype}
    return {**spec, "parameters": {"binary_data_size": len(raw)}}, raw


# --- top-level keys --------------------------------------------------------------------------


def test_kserve_sdk_model_name_is_accepted_and_reported() -> None:
    header = {"id": "abc", "model_name": "iris", "inputs": [matrix()]}
    request = parse(header)
    np.testing.assert_array_equal(request.rows, ROWS)
    assert request.id == "abc"
    assert decode.request_target(header) == ("iris", None)
    assert decode.request_target({"model_version": "1.0.0"}) == (None, "1.0.0")
    assert decode.request_target([1]) == (None, None)  # not an object: parse_request says so


@pytest.mark.parametrize("key", ["model_name", "model_version"])
def test_model_name_and_version_must_be_strings(key: str) -> None:
    assert f"{key}: expected a string, got 3" in refusal({key: 3, "inputs": [matrix()]})
    with pytest.raises(InvalidInput, match=f"{key}: expected a string"):
        decode.request_target({key: ["iris"]})


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
    assert request.outputs == (decode.RequestedOutput("label", binary=False),)


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
        for i, name in enumerate(IRIS_FEATURES)
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
    for name, datatype in zip(IRIS_FEATURES, ["FP64", "FP32", "FP64", "FP32"], strict=True):
        spec, raw = binary_column(name, datatype)
        inputs.append(spec)
        chunks.append(raw)
    inputs[1], inputs[2] = inputs[2], inputs[1]  # the section follows the inputs, not features
    chunks[1], chunks[2] = chunks[2], chunks[1]
    inputs[3] = column("petal_width")  # a JSON column between binary ones takes no bytes
    del chunks[3]
    rows = np.asarray(parse({"inputs": inputs}, b"".join(chunks)).rows)
    np.testing.assert_array_equal(rows[:, [0, 2, 3]], ROWS[:, [0, 2, 3]])
    np.testing.assert_array_equal(rows[:, 1], ROWS[:, 1].astype(np.float32))


def test_a_single_feature_named_input_is_a_column() -> None:
    message = refusal({"inputs": [column("sepal_length")]})
    assert "inputs: no input for ['sepal_width', 'petal_length', 'petal_width']" in message


def test_columns_to_rows_follows_the_feature_order() -> None:
    by_name = {name: ROWS[:, i] for i, name in enumerate(IRIS_FEATURES)}
    reordered = dict(reversed(list(by_name.items())))
    np.testing.assert_array_equal(decode.columns_to_rows(reordered, IRIS_FEATURES), ROWS)


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
        {"inputs": [binary_column(name, "FP64")[0] for name in IRIS_FEATURES]},
        bytes(24 + 10),
        "inputs[1]: the binary section is truncated: 10 bytes left for this input",
    ),
    (
        "bytes no input claims",
        {"inputs": [binary_column(name, "FP64")[0] for name in IRIS_FEATURES]},
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

"""irisserve.oip_codec: the Open Inference Protocol (V2) codec's pure functions, splitting
the body, decoding inputs JSON and binary, encoding the answer."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from tritonclient.http import InferResult

from irisserve import oip_codec
from irisserve.errors import BatchTooLarge, InvalidInput
from irisserve.model import Model
from tests.support import IRIS_FEATURES, IRIS_ROWS, v2_binary_request, v2_tensor

ROWS = np.array(IRIS_ROWS)


def parse(header: Any, binary: bytes = b"", max_rows: int = 10_000) -> oip_codec.InferRequest:
    return oip_codec.parse_request(header, memoryview(binary), IRIS_FEATURES, max_rows)


def parse_body(body: bytes, header_length: str | None) -> oip_codec.InferRequest:
    header, binary = oip_codec.split_body(body, header_length)
    return parse(json.loads(header), bytes(binary))


# --- codec: splitting the body -------------------------------------------------------------


def test_split_body_without_header_length_is_all_json() -> None:
    header, binary = oip_codec.split_body(b'{"a": 1}', None)
    assert header == b'{"a": 1}'
    assert len(binary) == 0


def test_split_body_at_header_length() -> None:
    header, binary = oip_codec.split_body(b"{}\x01\x02", "2")
    assert header == b"{}"
    assert bytes(binary) == b"\x01\x02"


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "", "0x10", "\u0663"])
def test_split_body_refuses_a_header_length_that_is_not_a_byte_count(value: str) -> None:
    with pytest.raises(InvalidInput, match="Inference-Header-Content-Length"):
        oip_codec.split_body(b"{}", value)


def test_split_body_refuses_a_header_length_past_the_body() -> None:
    with pytest.raises(InvalidInput, match="is 10 but the body is only 2 bytes"):
        oip_codec.split_body(b"{}", "10")


# --- codec: decoding inputs ----------------------------------------------------------------


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
    dtype = oip_codec.INPUT_DATATYPES[datatype]
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
    expected = rows.astype(oip_codec.INPUT_DATATYPES[datatype]).astype(np.float64)
    np.testing.assert_array_equal(decoded, expected)


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
        oip_codec.RequestedOutput("label", binary=True),
        oip_codec.RequestedOutput("predict", binary=False),
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


def test_too_many_rows_is_batch_too_large() -> None:
    with pytest.raises(BatchTooLarge, match="3 rows is over the limit of 2"):
        parse({"inputs": [v2_tensor()]}, max_rows=2)


# --- codec: encoding the answer ------------------------------------------------------------


def test_json_response(model: Model) -> None:
    request = parse({"id": "r", "inputs": [v2_tensor()]})
    predictions = model.predict(np.asarray(request.rows))
    body, header_length = oip_codec.encode_response(model, request, predictions)
    assert header_length is None
    reply = json.loads(body)
    assert reply["model_name"] == "iris"
    assert reply["model_version"] == "1.0.0"
    assert reply["id"] == "r"
    outputs = {o["name"]: o for o in reply["outputs"]}
    assert list(outputs) == ["predict", "predict_proba", "label"]
    assert outputs["predict"] == {
        "name": "predict",
        "datatype": "INT64",
        "shape": [3],
        "data": [0, 2, 1],
    }
    assert outputs["predict_proba"]["shape"] == [3, 3]
    assert outputs["predict_proba"]["data"] == predictions.probabilities.ravel().tolist()
    assert outputs["label"]["data"] == ["setosa", "virginica", "versicolor"]


def test_binary_response_decodes_with_tritonclient(model: Model) -> None:
    request = parse(
        {
            "inputs": [v2_tensor()],
            "parameters": {"binary_data_output": True},
            "outputs": [
                {"name": "label"},
                {"name": "predict_proba", "parameters": {"binary_data": False}},
                {"name": "predict"},
            ],
        }
    )
    predictions = model.predict(np.asarray(request.rows))
    body, header_length = oip_codec.encode_response(model, request, predictions)
    assert header_length is not None
    header = json.loads(body[:header_length])
    assert "id" not in header
    label = header["outputs"][0]
    assert label["parameters"] == {"binary_data_size": 4 * 3 + len("setosavirginicaversicolor")}
    assert "data" not in label
    assert body[header_length : header_length + 10] == b"\x06\x00\x00\x00setosa"

    result = InferResult.from_response_body(body, header_length=header_length)
    np.testing.assert_array_equal(
        result.as_numpy("label"), np.array([b"setosa", b"virginica", b"versicolor"], dtype=object)
    )
    np.testing.assert_array_equal(result.as_numpy("predict"), predictions.labels)
    assert result.as_numpy("predict").dtype == np.int64
    np.testing.assert_array_equal(result.as_numpy("predict_proba"), predictions.probabilities)


@pytest.mark.parametrize("binary", [False, True])
def test_a_few_rows_encode_alike_from_lists_and_from_arrays(model: Model, binary: bool) -> None:
    request = parse(
        {"id": "r", "inputs": [v2_tensor()], "parameters": {"binary_data_output": binary}}
    )
    assert isinstance(request.rows, list)
    from_lists = oip_codec.encode_response(model, request, model.predict_rows(request.rows))
    arrays = model.predict(np.asarray(request.rows))
    assert from_lists == oip_codec.encode_response(model, request, arrays)
    assert (from_lists[1] is not None) == binary


@pytest.mark.parametrize("rows", [255, 256, 3000])
def test_a_large_json_answer_is_what_the_standard_library_writes(model: Model, rows: int) -> None:
    x = np.random.default_rng(rows).uniform(0.0, 8.0, size=(rows, 4))
    request = parse({"id": "é", "inputs": [v2_tensor(x.tolist(), shape=[rows, 4])]})
    predictions = model.predict(np.asarray(request.rows))
    assert (predictions.probabilities < 1e-4).any()  # where orjson's float text differs
    names = np.array(model.class_names)[predictions.labels].tolist()
    expected = {
        "model_name": "iris",
        "model_version": model.version,
        "id": "é",
        "outputs": [
            {
                "name": "predict",
                "datatype": "INT64",
                "shape": [rows],
                "data": predictions.labels.tolist(),
            },
            {
                "name": "predict_proba",
                "datatype": "FP64",
                "shape": [rows, 3],
                "data": predictions.probabilities.ravel().tolist(),
            },
            {"name": "label", "datatype": "BYTES", "shape": [rows], "data": names},
        ],
    }
    body, header_length = oip_codec.encode_response(model, request, predictions)
    assert header_length is None
    assert body == json.dumps(expected, separators=(",", ":")).encode()


def test_model_metadata(model: Model) -> None:
    assert oip_codec.model_metadata(model) == {
        "name": "iris",
        "versions": ["1.0.0"],
        "platform": "sklearn",
        "inputs": [{"name": "input-0", "datatype": "FP64", "shape": [-1, 4]}],
        "outputs": [
            {"name": "predict", "datatype": "INT64", "shape": [-1]},
            {"name": "predict_proba", "datatype": "FP64", "shape": [-1, 3]},
            {"name": "label", "datatype": "BYTES", "shape": [-1]},
        ],
    }

"""Open Inference Protocol (V2) and V1: the codec's pure functions, then the routes through
functions-framework's test client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient
from tritonclient.http import InferResult

from irisserve import loader, oip_codec
from irisserve.artifact import open_artifact
from irisserve.errors import BatchTooLarge, InvalidInput
from irisserve.model import Model
from tests.support import BUNDLED, SETOSA, assert_error

ROWS = np.array([SETOSA, [6.5, 3.0, 5.5, 2.0], [5.9, 3.0, 4.2, 1.5]])
INFER = "/v2/models/iris/infer"
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


@pytest.fixture(scope="module")
def model() -> Model:
    return open_artifact(BUNDLED)


def tensor(data: Any = None, **fields: Any) -> dict[str, Any]:
    """The input-0 tensor of ROWS as JSON, with ``fields`` replacing its keys."""
    base = {
        "name": "input-0",
        "shape": [3, 4],
        "datatype": "FP64",
        "data": ROWS.tolist() if data is None else data,
    }
    return {**base, **fields}


def binary_request(rows: np.ndarray, datatype: str = "FP64", **fields: Any) -> tuple[bytes, str]:
    """A body in the binary tensor form, and its Inference-Header-Content-Length."""
    raw = rows.astype(oip_codec.INPUT_DATATYPES[datatype]).tobytes()
    header = {
        "inputs": [
            {
                "name": "input-0",
                "shape": list(rows.shape),
                "datatype": datatype,
                "parameters": {"binary_data_size": len(raw)},
            }
        ],
        **fields,
    }
    encoded = json.dumps(header).encode()
    return encoded + raw, str(len(encoded))


def parse(header: Any, binary: bytes = b"", max_rows: int = 10_000) -> oip_codec.InferRequest:
    return oip_codec.parse_request(header, memoryview(binary), FEATURES, max_rows)


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
    nested = parse({"inputs": [tensor()]})
    flat = parse({"inputs": [tensor(ROWS.ravel().tolist())]})
    np.testing.assert_array_equal(nested.rows, ROWS)
    np.testing.assert_array_equal(flat.rows, ROWS)
    assert nested.rows.dtype == np.float64
    assert nested.rows.shape == (3, 4)


def test_fp32_json_data_is_read_as_fp32() -> None:
    rows = parse({"inputs": [tensor(datatype="FP32")]}).rows
    np.testing.assert_array_equal(rows, ROWS.astype(np.float32).astype(np.float64))
    assert rows[0, 0] != 5.1  # 5.1 has no exact float32


@pytest.mark.parametrize(("datatype", "largest"), [("INT64", 2**40), ("INT8", 127), ("UINT8", 255)])
def test_integer_json_data(datatype: str, largest: int) -> None:
    data = [[5, 3, 1, 0], [6, 3, 5, 2], [largest, 0, 4, 1]]
    rows = parse({"inputs": [tensor(data, datatype=datatype)]}).rows
    np.testing.assert_array_equal(rows, np.array(data, dtype=np.float64))


@pytest.mark.parametrize("datatype", ["FP64", "FP32", "FP16", "INT32", "UINT16"])
def test_binary_input_round_trips(datatype: str) -> None:
    rows = np.rint(ROWS) if datatype[0] in "IU" else ROWS
    body, header_length = binary_request(rows, datatype)
    decoded = parse_body(body, header_length).rows
    expected = rows.astype(oip_codec.INPUT_DATATYPES[datatype]).astype(np.float64)
    np.testing.assert_array_equal(decoded, expected)


def test_binary_input_is_little_endian() -> None:
    raw = ROWS.astype(">f8").tobytes()  # big-endian bytes must not decode to ROWS
    header = {"inputs": [tensor(None, parameters={"binary_data_size": len(raw)})]}
    del header["inputs"][0]["data"]
    decoded = parse(header, raw).rows
    assert not np.array_equal(decoded, ROWS)
    np.testing.assert_array_equal(parse(header, ROWS.astype("<f8").tobytes()).rows, ROWS)


def test_a_large_binary_batch_decodes_exactly() -> None:
    rows = np.random.default_rng(7).uniform(0.0, 8.0, size=(10_000, 4))
    body, header_length = binary_request(rows)
    np.testing.assert_array_equal(parse_body(body, header_length).rows, rows)


def test_request_id_and_default_outputs() -> None:
    request = parse({"id": "req-1", "inputs": [tensor()]})
    assert request.id == "req-1"
    assert [o.name for o in request.outputs] == ["predict", "predict_proba", "label"]
    assert not any(o.binary for o in request.outputs)
    assert parse({"inputs": [tensor()]}).id is None


def test_binary_data_output_and_per_output_override() -> None:
    request = parse(
        {
            "inputs": [tensor()],
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
    everything = parse({"inputs": [tensor()], "parameters": {"binary_data_output": True}})
    assert all(o.binary for o in everything.outputs)


def _without_data(**fields: Any) -> dict[str, Any]:
    spec = tensor(**fields)
    del spec["data"]
    return spec


BAD_REQUESTS: list[tuple[str, Any, bytes, str]] = [
    ("not an object", [1, 2], b"", "expected a JSON object"),
    ("unknown key", {"inputs": [tensor()], "input": 1}, b"", 'unknown key "input"'),
    ("id not a string", {"id": 7, "inputs": [tensor()]}, b"", "id: expected a string"),
    ("parameters", {"inputs": [tensor()], "parameters": [1]}, b"", "parameters: expected"),
    ("no inputs", {"outputs": []}, b"", "inputs: expected a list of tensors"),
    ("two inputs", {"inputs": [tensor(), tensor()]}, b"", '"input-0" is not a feature'),
    ("unknown datatype", {"inputs": [tensor(datatype="FP128")]}, b"", "unknown datatype"),
    ("BYTES input", {"inputs": [tensor(datatype="BYTES")]}, b"", "BYTES is not supported"),
    ("shape 1-D", {"inputs": [tensor(shape=[12])]}, b"", "expected [rows, 4]"),
    ("shape columns", {"inputs": [tensor(shape=[3, 5])]}, b"", "expected [rows, 4]"),
    ("shape zero rows", {"inputs": [tensor([], shape=[0, 4])]}, b"", "rows >= 1"),
    ("shape negative", {"inputs": [tensor(shape=[-1, 4])]}, b"", "rows >= 1"),
    ("shape bool", {"inputs": [tensor(shape=[True, 4])]}, b"", "expected [rows, 4]"),
    ("flat too short", {"inputs": [tensor([1.0] * 8)]}, b"", "8 values do not match"),
    ("nested rows", {"inputs": [tensor(ROWS[:2].tolist())]}, b"", "2 rows do not match"),
    ("nested row", {"inputs": [tensor([[1, 2, 3, 4], [1, 2], [1, 2, 3, 4]])]}, b"", "data[1]"),
    ("data not a list", {"inputs": [tensor("abc")]}, b"", "expected a list of numbers"),
    ("string", {"inputs": [tensor([1.0] * 5 + ["x"] + [1.0] * 6)]}, b"", "element 5 (row 1"),
    ("bool", {"inputs": [tensor([True] + [1.0] * 11)]}, b"", "got true"),
    ("null", {"inputs": [tensor([None] + [1.0] * 11)]}, b"", "got null"),
    ("float as INT", {"inputs": [tensor(datatype="INT64")]}, b"", "expected an integer"),
    ("UINT8 range", {"inputs": [tensor([300] * 12, datatype="UINT8")]}, b"", "out of range"),
    ("huge int", {"inputs": [tensor([10**400] * 12)]}, b"", "out of range for FP64"),
    ("FP32 overflow", {"inputs": [tensor([1e300] * 12, datatype="FP32")]}, b"", "finite FP32"),
    ("no data", {"inputs": [_without_data()]}, b"", 'no "data"'),
    (
        "data and binary",
        {"inputs": [tensor(parameters={"binary_data_size": 96})]},
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
    ("bytes after json data", {"inputs": [tensor()]}, bytes(8), "8 bytes after the JSON"),
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
    ("outputs not a list", {"inputs": [tensor()], "outputs": "label"}, b"", "outputs: expected"),
    (
        "unknown output",
        {"inputs": [tensor()], "outputs": [{"name": "probabilities"}]},
        b"",
        'unknown output "probabilities"',
    ),
    (
        "duplicate output",
        {"inputs": [tensor()], "outputs": [{"name": "label"}, {"name": "label"}]},
        b"",
        "requested twice",
    ),
    (
        "classification",
        {"inputs": [tensor()], "outputs": [{"name": "label", "parameters": {"classification": 2}}]},
        b"",
        "classification extension is not supported",
    ),
    (
        "binary_data not bool",
        {"inputs": [tensor()], "outputs": [{"name": "label", "parameters": {"binary_data": 1}}]},
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
        parse({"inputs": [tensor()]}, max_rows=2)


# --- codec: encoding the answer ------------------------------------------------------------


def test_json_response(model: Model) -> None:
    request = parse({"id": "r", "inputs": [tensor()]})
    predictions = model.predict(request.rows)
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
            "inputs": [tensor()],
            "parameters": {"binary_data_output": True},
            "outputs": [
                {"name": "label"},
                {"name": "predict_proba", "parameters": {"binary_data": False}},
                {"name": "predict"},
            ],
        }
    )
    predictions = model.predict(request.rows)
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


# --- the routes, through functions-framework's test client ---------------------------------


def test_live_ready_and_metadata(client: FlaskClient) -> None:
    assert client.get("/v2/health/live").get_json() == {"live": True}
    ready = client.get("/v2/health/ready")
    assert ready.status_code == 200
    assert ready.mimetype == "application/json"
    assert ready.get_json() == {"ready": True}
    assert client.get("/v2").get_json() == {
        "name": "irisserve",
        "version": "1.0.0",
        "extensions": ["binary_tensor_data"],
    }
    for path in ("/v2/models/iris", "/v2/models/iris/versions/1.0.0"):
        assert client.get(path).get_json()["inputs"][0]["name"] == "input-0"
    for path in (
        "/v2/models/iris/ready",
        "/v2/models/iris/versions/1.0.0/ready",
        "/v1/models/iris",
    ):
        assert client.get(path).get_json() == {"name": "iris", "ready": True}


def test_not_ready_is_503_with_an_error_body(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("IRISSERVE_MODEL_DIR", str(tmp_path / "absent"))
    assert client.get("/v2/health/live").status_code == 200
    for path in ("/v2/health/ready", "/v2/models/iris/ready"):
        response = client.get(path)
        assert_error(response, 503, "artifact_missing")
        assert response.headers["Retry-After"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v2/models/nope"),
        ("GET", "/v2/models/nope/ready"),
        ("GET", "/v2/models/iris/versions/9.9.9"),
        ("GET", "/v2/models/iris/versions/9.9.9/ready"),
        ("POST", "/v2/models/nope/infer"),
        ("POST", "/v2/models/iris/versions/9.9.9/infer"),
        ("GET", "/v1/models/nope"),
        ("POST", "/v1/models/nope:predict"),
    ],
)
def test_unknown_model_or_version_is_404(client: FlaskClient, method: str, path: str) -> None:
    body = json.dumps({"inputs": [tensor()], "instances": [SETOSA]})
    response = client.open(path, method=method, data=body, content_type="application/json")
    message = assert_error(response, 404, "not_found")["error"]
    assert "nope" in message or "9.9.9" in message


def test_infer_json_without_content_type(client: FlaskClient, model: Model) -> None:
    response = client.post(
        "/v2/models/iris/versions/1.0.0/infer", data=json.dumps({"id": "a", "inputs": [tensor()]})
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert "Inference-Header-Content-Length" not in response.headers
    reply = response.get_json()
    assert reply["id"] == "a"
    assert reply["outputs"][0]["data"] == model.predict(ROWS).labels.tolist()


def test_infer_binary(client: FlaskClient, model: Model) -> None:
    body, header_length = binary_request(
        ROWS, "FP32", parameters={"binary_data_output": True}, id="b"
    )
    response = client.post(
        INFER, data=body, headers={"Inference-Header-Content-Length": header_length}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/octet-stream"
    length = int(response.headers["Inference-Header-Content-Length"])
    result = InferResult.from_response_body(response.get_data(), header_length=length)
    assert result.get_response()["id"] == "b"
    expected = model.predict(ROWS.astype(np.float32).astype(np.float64))
    np.testing.assert_array_equal(result.as_numpy("predict_proba"), expected.probabilities)


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (b"", {}, 400, "malformed_json"),
        (b"{oops", {}, 400, "malformed_json"),
        (b'{"inputs": [1]}', {"Content-Type": "application/json"}, 400, "invalid_input"),
        (b"{}" + bytes(8), {"Inference-Header-Content-Length": "2"}, 400, "invalid_input"),
        (b"{}", {"Inference-Header-Content-Length": "99"}, 400, "invalid_input"),
        (b"{}", {"Inference-Header-Content-Length": "x"}, 400, "invalid_input"),
        (b"{}", {"Content-Encoding": "gzip"}, 415, "unsupported_media_type"),
    ],
)
def test_bad_infer_requests_are_4xx_json_and_the_next_one_works(
    client: FlaskClient, body: bytes, headers: dict[str, str], status: int, code: str
) -> None:
    assert_error(client.post(INFER, data=body, headers=headers), status, code)
    assert client.post(INFER, data=json.dumps({"inputs": [tensor()]})).status_code == 200


def test_truncated_binary_over_http(client: FlaskClient) -> None:
    body, header_length = binary_request(ROWS)
    response = client.post(
        INFER, data=body[:-10], headers={"Inference-Header-Content-Length": header_length}
    )
    assert "truncated" in assert_error(response, 400, "invalid_input")["error"]


def test_infer_limits(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IRISSERVE_MAX_BATCH_ROWS", "2")
    body = json.dumps({"inputs": [tensor()]})
    assert_error(client.post(INFER, data=body), 413, "batch_too_large")
    monkeypatch.setenv("IRISSERVE_MAX_BODY_BYTES", "100")
    loader.reset()  # settings are read once per process
    assert_error(client.post(INFER, data=body), 413, "payload_too_large")


def test_infer_is_post_only(client: FlaskClient) -> None:
    response = client.get(INFER)
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "POST"


# --- V1 -------------------------------------------------------------------------------------


def test_v1_predict_matches_the_native_batch(client: FlaskClient) -> None:
    instances = ROWS.tolist()
    native = client.post("/predict", json={"instances": instances}).get_json()
    v1 = client.post("/v1/models/iris:predict", json={"instances": instances, "parameters": {}})
    assert v1.status_code == 200
    assert v1.get_json() == {"predictions": native["predictions"]}
    keyed = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
    one = client.post("/v1/models/iris:predict", json={"instances": [keyed]}).get_json()
    native_one = client.post("/predict", json={"instances": [SETOSA]}).get_json()
    assert one["predictions"] == native_one["predictions"]


def test_v1_flags_drift_like_the_native_batch(client: FlaskClient) -> None:
    instances = [SETOSA, [5.1, 3.5, 100.0, 0.2]]
    native = client.post("/predict", json={"instances": instances}).get_json()
    v1 = client.post("/v1/models/iris:predict", json={"instances": instances}).get_json()
    assert v1 == {"predictions": native["predictions"]}
    assert "warnings" not in v1["predictions"][0]
    assert [w["feature"] for w in v1["predictions"][1]["warnings"]] == ["petal_length"]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"features": SETOSA}, '"instances"'),
        ([SETOSA], '"instances"'),
        ({"instances": [SETOSA], "signature": "x"}, "unknown key 'signature'"),
        ({"instances": [[1, 2, 3]]}, "instances[0]: expected 4 features"),
        ({"instances": [[1, 2, "x", 4]]}, "instances[0][2]"),
        ({"instances": []}, "empty"),
    ],
)
def test_v1_bad_bodies_are_400(client: FlaskClient, payload: Any, message: str) -> None:
    response = client.post("/v1/models/iris:predict", json=payload)
    assert message in assert_error(response, 400, "invalid_input")["error"]


def test_v1_requires_json(client: FlaskClient) -> None:
    response = client.post("/v1/models/iris:predict", data=json.dumps({"instances": [SETOSA]}))
    assert_error(response, 415, "unsupported_media_type")

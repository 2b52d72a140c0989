"""Conformance with the real ``tritonclient.http`` client against a real functions-framework
process: what a Triton or KServe caller sees, compared with the core library in-process."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pytest
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from irisserve.artifact.model import Model
from irisserve.scorers.contract import Scores, as_list
from tests.helpers.support import FunctionProcess

pytestmark = pytest.mark.integration

LOW = np.array([4.3, 2.0, 1.0, 0.1])
HIGH = np.array([7.9, 4.4, 6.9, 2.5])
DTYPES = {"FP32": np.float32, "FP64": np.float64}


@pytest.fixture(scope="module")
def server() -> Iterator[FunctionProcess]:
    with FunctionProcess() as process:
        yield process


@pytest.fixture(scope="module")
def triton(server: FunctionProcess) -> Iterator[httpclient.InferenceServerClient]:
    client = httpclient.InferenceServerClient(
        url=server.url.removeprefix("http://"), connection_timeout=10.0, network_timeout=30.0
    )
    yield client
    client.close()


def rows(n: int, datatype: str) -> np.ndarray:
    """``n`` rows spread over the training range, in the numpy dtype of ``datatype``."""
    values = np.random.default_rng(n).uniform(LOW, HIGH, size=(n, 4))
    return values.astype(DTYPES[datatype])


def infer_input(x: np.ndarray, datatype: str, binary: bool) -> httpclient.InferInput:
    tensor = httpclient.InferInput("input-0", list(x.shape), datatype)
    tensor.set_data_from_numpy(x, binary_data=binary)
    return tensor


def assert_matches(result: httpclient.InferResult, model: Model, expected: Scores) -> None:
    """Equal to the core library's answer for the same array (same rows, same batch)."""
    np.testing.assert_array_equal(result.as_numpy("predict"), expected.labels)
    np.testing.assert_array_equal(result.as_numpy("predict_proba"), expected.probabilities)
    assert labels_as_text(result) == [model.class_names[i] for i in expected.labels]


def labels_as_text(result: httpclient.InferResult) -> list[str]:
    """The label output as text: bytes when it came binary, str when it came as JSON."""
    return [v.decode() if isinstance(v, bytes) else v for v in result.as_numpy("label").tolist()]


def test_server_live_and_ready(triton: httpclient.InferenceServerClient) -> None:
    assert triton.is_server_live()
    assert triton.is_server_ready()


def test_model_ready(triton: httpclient.InferenceServerClient) -> None:
    assert triton.is_model_ready("iris")
    assert triton.is_model_ready("iris", "1.0.0")
    assert not triton.is_model_ready("nope")
    assert not triton.is_model_ready("iris", "9.9.9")


def test_metadata(triton: httpclient.InferenceServerClient) -> None:
    server = triton.get_server_metadata()
    assert server["name"] == "irisserve"
    assert "binary_tensor_data" in server["extensions"]
    metadata = triton.get_model_metadata("iris")
    assert metadata == triton.get_model_metadata("iris", "1.0.0")
    assert metadata["name"] == "iris"
    assert metadata["versions"] == ["1.0.0"]
    assert metadata["inputs"] == [{"name": "input-0", "datatype": "FP64", "shape": [-1, 4]}]
    assert [(o["name"], o["datatype"]) for o in metadata["outputs"]] == [
        ("predict", "INT64"),
        ("predict_proba", "FP64"),
        ("label", "BYTES"),
    ]


@pytest.mark.parametrize("n", [1, 10_000])
@pytest.mark.parametrize("datatype", ["FP32", "FP64"])
@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_infer(
    triton: httpclient.InferenceServerClient, model: Model, n: int, datatype: str, binary: bool
) -> None:
    x = rows(n, datatype)
    # Binary: tritonclient's default (no outputs named, so binary_data_output is sent).
    # JSON: every output asked for explicitly without binary data.
    outputs = (
        None
        if binary
        else [
            httpclient.InferRequestedOutput(name, binary_data=False)
            for name in ("predict", "predict_proba", "label")
        ]
    )
    result = triton.infer("iris", [infer_input(x, datatype, binary)], outputs=outputs)
    reply = result.get_response()
    assert reply["model_name"] == "iris"
    assert reply["model_version"] == "1.0.0"
    for output in reply["outputs"]:
        assert ("data" not in output) is binary
        assert ("binary_data_size" in output.get("parameters", {})) is binary
    assert_matches(result, model, model.predict_rows(x.astype(np.float64)))


def test_requested_outputs_subset_and_request_id(
    triton: httpclient.InferenceServerClient, model: Model
) -> None:
    x = rows(50, "FP64")
    result = triton.infer(
        "iris",
        [infer_input(x, "FP64", binary=True)],
        model_version="1.0.0",
        request_id="req-42",
        outputs=[
            httpclient.InferRequestedOutput("label", binary_data=True),
            httpclient.InferRequestedOutput("predict_proba", binary_data=False),
        ],
    )
    reply = result.get_response()
    assert reply["id"] == "req-42"
    assert [o["name"] for o in reply["outputs"]] == ["label", "predict_proba"]
    assert result.as_numpy("predict") is None
    expected = model.predict_rows(x)
    assert result.as_numpy("label").tolist() == [
        model.class_names[i].encode() for i in expected.labels
    ]
    np.testing.assert_array_equal(result.as_numpy("predict_proba"), expected.probabilities)


@pytest.mark.parametrize(
    ("model_name", "version", "columns", "status"),
    [
        ("nope", "", 4, "404"),
        ("iris", "9.9.9", 4, "404"),
        ("iris", "", 5, "400"),
    ],
)
def test_bad_infer_raises_the_status(
    triton: httpclient.InferenceServerClient,
    model_name: str,
    version: str,
    columns: int,
    status: str,
) -> None:
    tensor = httpclient.InferInput("input-0", [1, columns], "FP64")
    tensor.set_data_from_numpy(np.ones((1, columns)))
    with pytest.raises(InferenceServerException) as caught:
        triton.infer(model_name, [tensor], model_version=version)
    assert caught.value.status() == status
    assert caught.value.message()


def test_kserve_json_bodies(server: FunctionProcess) -> None:
    expected = {
        "/v2/health/live": {"live": True},
        "/v2/health/ready": {"ready": True},
        "/v2/models/iris/ready": {"name": "iris", "ready": True},
        "/v1/models/iris": {"name": "iris", "ready": True},
    }
    for path, body in expected.items():
        reply = server.request("GET", path)
        assert reply.status == 200
        assert reply.headers["Content-Type"] == "application/json"
        assert reply.json() == body


def test_v1_predict_over_http(server: FunctionProcess, model: Model) -> None:
    x = rows(3, "FP64")
    reply = server.post_json("/v1/models/iris:predict", {"instances": x.tolist()})
    assert reply.status == 200
    predictions = reply.json()["predictions"]
    labels = model.predict_rows(x).labels
    assert labels is not None
    assert [p["prediction"] for p in predictions] == as_list(labels)


def _binary_body(n: int) -> tuple[bytes, int]:
    raw = rows(n, "FP64").tobytes()
    spec = {"name": "input-0", "shape": [n, 4], "datatype": "FP64"}
    header = json.dumps({"inputs": [{**spec, "parameters": {"binary_data_size": len(raw)}}]})
    return header.encode() + raw, len(header)


@pytest.mark.parametrize(
    ("cut", "header_length", "message"),
    [
        (10, None, "truncated"),  # the binary section is 10 bytes short
        (0, "100000", "is 100000 but the body is only"),  # header length past the body
        (0, "abc", "byte count"),
        (0, "-5", "byte count"),
    ],
)
def test_bad_binary_bodies_are_400_json(
    server: FunctionProcess, cut: int, header_length: str | None, message: str
) -> None:
    body, json_size = _binary_body(2)
    headers = {"Inference-Header-Content-Length": header_length or str(json_size)}
    reply = server.request("POST", "/v2/models/iris/infer", body[: len(body) - cut], headers)
    assert reply.status == 400
    assert reply.headers["Content-Type"] == "application/json"
    error = reply.json()
    assert error["code"] == "invalid_input"
    assert message in error["error"]
    assert server.request("GET", "/v2/health/ready").status == 200

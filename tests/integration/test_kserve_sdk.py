"""Conformance with the KServe Python SDK (``InferenceRESTClient``, protocol v2) against a real
functions-framework process. The SDK runs in its own environment (``tests/clients``): it cannot
share our locked one. Its body carries ``model_name``, which the protocol does not define."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from irisserve.artifact.model import Model
from irisserve.scorers.contract import as_list
from tests.helpers.clients import run_client
from tests.helpers.support import SETOSA, FunctionProcess, assert_error_body

pytestmark = pytest.mark.integration

LOW = np.array([4.3, 2.0, 1.0, 0.1])
HIGH = np.array([7.9, 4.4, 6.9, 2.5])
ROWS = np.random.default_rng(19).uniform(LOW, HIGH, size=(2000, 4))
DTYPES = {"FP32": np.float32, "FP64": np.float64}

#: Every datatype x input form x output form, on one row and on a batch.
INFER_CASES = [
    {
        "id": f"{datatype}-{n}-{'binary' if binary_in else 'json'}-in-"
        f"{'binary' if binary_out else 'json'}-out",
        "datatype": datatype,
        "n": n,
        "binary_input": binary_in,
        "binary_output": binary_out,
    }
    for datatype in DTYPES
    for n in (1, 2000)
    for binary_in in (True, False)
    for binary_out in (True, False)
]
OTHER_CASES = [
    {  # selected outputs, one binary and one JSON, and our own request id
        "id": "selected",
        "datatype": "FP64",
        "n": 40,
        "binary_input": True,
        "request_id": "req-42",
        "outputs": [{"name": "label", "binary": True}, {"name": "predict_proba", "binary": False}],
    },
    {"id": "any-name", "datatype": "FP32", "n": 5, "binary_input": False, "input_name": "x"},
    {"id": "unknown-model", "datatype": "FP64", "n": 1, "binary_input": False, "model": "nope"},
    {"id": "body-names-another", "datatype": "FP64", "n": 1, "binary_input": True},
]
OTHER_CASES[-1]["body_model"] = "other"


@pytest.fixture(scope="module")
def server() -> Iterator[FunctionProcess]:
    with FunctionProcess() as process:
        yield process


@pytest.fixture(scope="module")
def report(server: FunctionProcess) -> dict[str, Any]:
    """What the SDK saw, every call made in one run of the client script."""
    plan = {"rows": ROWS.tolist(), "cases": INFER_CASES + OTHER_CASES}
    result: dict[str, Any] = run_client("kserve", plan, server)
    return result


def expected_outputs(model: Model, x: np.ndarray) -> dict[str, list[Any]]:
    predictions = model.predict_rows(x.astype(np.float64))
    return {
        "predict": as_list(predictions.labels),
        "predict_proba": as_list(predictions.probabilities),
        "label": [model.class_names[i] for i in as_list(predictions.labels)],
    }


def test_server_live_ready_and_model_ready(report: dict[str, Any]) -> None:
    assert report["live"] is True
    assert report["ready"] is True
    assert report["model_ready"] == {"iris": True, "nope": False}


@pytest.mark.parametrize("case", INFER_CASES, ids=[case["id"] for case in INFER_CASES])
def test_infer(report: dict[str, Any], model: Model, case: dict[str, Any]) -> None:
    reply = report["cases"][case["id"]]
    assert reply["status"] == 200, reply
    assert reply["model_name"] == "iris"
    assert reply["id"]  # the SDK sends a uuid when it is given no id; it comes back
    assert (reply["header_length"] is not None) is case["binary_output"]
    x = ROWS[: case["n"]].astype(DTYPES[case["datatype"]])
    outputs = reply["outputs"]
    assert {name: o["values"] for name, o in outputs.items()} == expected_outputs(model, x)
    assert outputs["predict_proba"]["shape"] == [case["n"], 3]
    assert [o["datatype"] for o in outputs.values()] == ["INT64", "FP64", "BYTES"]


def test_selected_outputs_and_request_id(report: dict[str, Any], model: Model) -> None:
    reply = report["cases"]["selected"]
    assert reply["status"] == 200, reply
    assert reply["id"] == "req-42"
    assert reply["header_length"] is not None  # the label came binary
    assert list(reply["outputs"]) == ["label", "predict_proba"]
    expected = expected_outputs(model, ROWS[:40])
    assert reply["outputs"]["label"]["values"] == expected["label"]
    assert reply["outputs"]["predict_proba"]["values"] == expected["predict_proba"]


def test_the_one_tensor_under_another_name(report: dict[str, Any], model: Model) -> None:
    reply = report["cases"]["any-name"]
    assert reply["status"] == 200, reply
    x = ROWS[:5].astype(np.float32)
    assert reply["outputs"]["label"]["values"] == expected_outputs(model, x)["label"]


def test_refusals_reach_the_sdk_as_http_errors(report: dict[str, Any]) -> None:
    unknown = report["cases"]["unknown-model"]
    assert unknown["status"] == 404
    assert unknown["error"] == {
        "error": "no model named 'nope'; this server serves 'iris'",
        "code": "not_found",
    }
    other = report["cases"]["body-names-another"]
    assert other["status"] == 404
    assert other["error"] == {
        "error": "the request body: no model named 'other'; this server serves 'iris'",
        "code": "not_found",
    }


# --- the body's model_name / model_version over plain HTTP -----------------------------------


def sdk_body(**fields: Any) -> dict[str, Any]:
    """A JSON body as the SDK builds it (``InferRequest.to_rest``), with ``fields`` added."""
    tensor = {"name": "input-0", "shape": [1, 4], "datatype": "FP64", "data": SETOSA}
    return {"id": "7", "model_name": "iris", "inputs": [tensor], **fields}


@pytest.mark.parametrize(
    ("path", "fields", "status", "message"),
    [
        ("/v2/models/iris/infer", {}, 200, None),
        ("/v2/models/iris/infer", {"model_version": "1.0.0"}, 200, None),
        ("/v2/models/iris/versions/1.0.0/infer", {"model_version": "1.0.0"}, 200, None),
        ("/v2/models/iris/infer", {"model_name": "nope"}, 404, "no model named 'nope'"),
        ("/v2/models/iris/infer", {"model_version": "2.0.0"}, 404, "has no version '2.0.0'"),
        (
            "/v2/models/iris/versions/1.0.0/infer",
            {"model_version": "2.0.0"},
            404,
            "has no version '2.0.0'",
        ),
        ("/v2/models/iris/infer", {"model_name": None}, 200, None),
        ("/v2/models/iris/infer", {"model_name": 3}, 400, "model_name: expected a string"),
        ("/v2/models/iris/infer", {"model": "iris"}, 400, 'unknown key "model"'),
    ],
)
def test_the_body_may_name_the_model_the_path_names(
    server: FunctionProcess, path: str, fields: dict[str, Any], status: int, message: str | None
) -> None:
    reply = server.post_json(path, sdk_body(**fields))
    if message is None:
        assert reply.status == 200, reply.body
        assert reply.json()["id"] == "7"
        return
    code = {400: "invalid_input", 404: "not_found"}[status]
    error = assert_error_body(
        reply.status, reply.headers["Content-Type"], reply.json(), status, code
    )
    assert message in error["error"]
    if status == 404:
        assert error["error"].startswith("the request body: ")

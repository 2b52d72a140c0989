"""Conformance with MLServer's codecs against a real functions-framework process: requests built
by ``NumpyRequestCodec`` (one tensor named ``input-1``, ``content_type`` ``np``) and by
``PandasCodec`` (one ``[n, 1]`` input per feature column), answers decoded by the matching codec.
MLServer runs in its own environment (``tests/clients``): it cannot share our locked one."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from irisserve.artifact.model import Model
from irisserve.scorers.contract import as_list
from tests.helpers.clients import run_client
from tests.helpers.support import IRIS_FEATURES as FEATURES

pytestmark = pytest.mark.integration

LOW = np.array([4.3, 2.0, 1.0, 0.1])
HIGH = np.array([7.9, 4.4, 6.9, 2.5])
ROWS = np.random.default_rng(1971).uniform(LOW, HIGH, size=(500, 4))
DTYPES = {"FP32": np.float32, "FP64": np.float64, "INT64": np.int64}
ALL_FP64 = ["FP64"] * 4
MIXED = ["FP32", "FP64", "INT64", "FP32"]

#: PandasCodec decodes a frame of equal-length columns: predict_proba ([n, 3]) is not one.
PD_OUTPUTS = ["predict", "label"]
NP_CASES: list[dict[str, Any]] = [
    {"id": "np-fp64-all-outputs", "codec": "np", "datatype": "FP64", "n": 500},
    {
        "id": "np-fp32-proba",
        "codec": "np",
        "datatype": "FP32",
        "n": 500,
        "outputs": ["predict_proba"],
    },
    {"id": "np-one-row-label", "codec": "np", "n": 1, "outputs": ["label"], "request_id": "r-1"},
]
PD_CASES: list[dict[str, Any]] = [
    {"id": "pd-fp64", "column_types": ALL_FP64, "n": 500},
    {"id": "pd-mixed", "column_types": MIXED, "n": 500},
    {"id": "pd-one-row", "column_types": ALL_FP64, "n": 1, "request_id": "r-2"},
]
MISSING_COLUMN = {"id": "pd-missing-column", "column_types": ALL_FP64[:3], "features": FEATURES[:3]}
for _case in [*PD_CASES, MISSING_COLUMN]:
    _case.update(codec="pd", outputs=PD_OUTPUTS, n=_case.get("n", 3))
CASES = [*NP_CASES, *PD_CASES, MISSING_COLUMN]
BY_ID = {case["id"]: case for case in CASES}


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    """What the codecs sent and decoded, every case in one run of the client script."""
    result: dict[str, Any] = run_client(
        "mlserver", {"rows": ROWS.tolist(), "features": FEATURES, "cases": CASES}
    )
    return result


def sent_rows(case: dict[str, Any]) -> np.ndarray:
    """The rows as the client cast them before sending, as float64."""
    x = ROWS[: case["n"]]
    if case["codec"] == "np":
        return x.astype(DTYPES[case.get("datatype", "FP64")]).astype(np.float64)
    columns = [x[:, i].astype(DTYPES[t]).astype(np.float64) for i, t in enumerate(MIXED)]
    return np.column_stack(columns) if case["column_types"] == MIXED else x


def expected(model: Model, case: dict[str, Any]) -> dict[str, list[Any]]:
    predictions = model.predict_rows(sent_rows(case))
    every = {
        "predict": as_list(predictions.labels),
        "predict_proba": as_list(predictions.probabilities),
        "label": [model.class_names[i] for i in as_list(predictions.labels)],
    }
    return {name: every[name] for name in case.get("outputs", every)}


@pytest.mark.parametrize("case_id", [c["id"] for c in NP_CASES])
def test_numpy_request_codec(report: dict[str, Any], model: Model, case_id: str) -> None:
    case, reply = BY_ID[case_id], report[case_id]
    sent = reply["sent"]
    assert sent["parameters"] == {"content_type": "np"}
    assert [i["name"] for i in sent["inputs"]] == ["input-1"]  # not the metadata's input-0
    assert sent["inputs"][0]["parameters"] == {"content_type": "np"}
    assert reply["status"] == 200, reply["error"]
    assert (reply["model_name"], reply["model_version"]) == ("iris", "1.0.0")
    assert reply["id"] == case.get("request_id")
    assert reply["decoded"] == expected(model, case)


@pytest.mark.parametrize("case_id", [c["id"] for c in PD_CASES])
def test_pandas_codec(report: dict[str, Any], model: Model, case_id: str) -> None:
    case, reply = BY_ID[case_id], report[case_id]
    sent = reply["sent"]
    assert sent["parameters"] == {"content_type": "pd"}
    assert [i["name"] for i in sent["inputs"]] == FEATURES
    assert [i["shape"] for i in sent["inputs"]] == [[case["n"], 1]] * 4
    assert [i["datatype"] for i in sent["inputs"]] == case["column_types"]
    assert reply["status"] == 200, reply["error"]
    assert reply["id"] == case.get("request_id")
    assert reply["decoded"] == expected(model, case)


def test_pandas_codec_without_a_column_is_told_which(report: dict[str, Any]) -> None:
    reply = report["pd-missing-column"]
    assert reply["status"] == 400
    assert reply["error"]["code"] == "invalid_input"
    assert reply["error"]["error"].startswith("inputs: no input for ['petal_width']")

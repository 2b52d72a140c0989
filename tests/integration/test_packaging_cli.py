"""Your own model, end to end: packaged here, served by the real functions-framework process.

For every kind of estimator (linear, kernel, trees, boosting with a categorical feature, a
ColumnTransformer pipeline with imputation and one-hot encoding), the held-out rows sent
as objects mixing numbers, strings and nulls get exactly what the estimator answers,
through native ``/predict`` (one row and a batch), KServe V1 and a Pub/Sub push; bad
input for every kind of field gets a 4xx JSON error and the next request is served.
``python -m irisserve.packaging`` ends saying which backend serves the model (and why not
the fast path), refuses multi-output models with a sentence; a library missing
where the model is served is named in a 503.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from irisserve.artifact.folder import open_artifact
from irisserve.packaging import write_artifact
from tests.helpers.own_models import (
    BUILDERS,
    Fitted,
    assert_same_answers,
    expected_objects,
    json_rows,
    local_module_model,
)
from tests.helpers.support import REPO, FunctionProcess, assert_error_body

pytestmark = pytest.mark.integration


class Served:
    """A packaged model, the process serving it, and what it was fitted on."""

    def __init__(self, kind: str, fitted: Fitted, process: FunctionProcess) -> None:
        self.kind, self.fitted, self.process = kind, fitted, process
        self.rows = json_rows(fitted.test)
        self.expected = expected_objects(fitted.estimator, fitted.test)

    def ok(self) -> None:
        """The process still serves a good row."""
        reply = self.process.post_json("/predict", {"features": self.rows[0]})
        assert reply.status == 200, reply.body
        assert_same_answers(self.expected[:1], [reply.json()])


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    kind: str = request.param
    fitted = BUILDERS[kind]()
    folder = tmp_path_factory.mktemp(kind)
    write_artifact(fitted.estimator, fitted.train, folder, name=kind, version="0.1.0", y=fitted.y)
    with FunctionProcess(env={"IRISSERVE_MODEL_DIR": str(folder)}) as process:
        yield Served(kind, fitted, process)


def test_native_batch_answers_what_the_estimator_answers(served: Served) -> None:
    reply = served.process.post_json("/predict", {"instances": served.rows})
    assert reply.status == 200, reply.body
    body = reply.json()
    assert body["model_version"] == "0.1.0"
    assert_same_answers(served.expected, body["predictions"])


def test_native_single_rows_as_objects_and_lists(served: Served) -> None:
    for i in (0, 1, len(served.rows) - 1):
        row = served.rows[i]
        for features in (row, list(row.values())):
            reply = served.process.post_json("/predict", {"features": features})
            assert reply.status == 200, reply.body
            answer = reply.json()
            assert answer["model_version"] == "0.1.0"
            assert_same_answers(served.expected[i : i + 1], [answer])


def test_v1_answers_what_the_estimator_answers(served: Served) -> None:
    lists = [list(row.values()) for row in served.rows]
    reply = served.process.post_json(f"/v1/models/{served.kind}:predict", {"instances": lists})
    assert reply.status == 200, reply.body
    assert_same_answers(served.expected, reply.json()["predictions"])


def test_a_pubsub_push_answers_what_the_estimator_answers(served: Served) -> None:
    data = base64.b64encode(json.dumps({"instances": served.rows[:3]}).encode()).decode()
    envelope = {"message": {"data": data, "messageId": "m-1"}, "subscription": "s"}
    reply = served.process.post_json("/predict", envelope)
    assert reply.status == 200, reply.body
    assert reply.json()["outcome"] == "scored"
    scored = [
        line["irisserve"]["result"]
        for line in served.process.log_lines()
        if line.get("irisserve", {}).get("event") == "message_scored"
    ]
    assert_same_answers(served.expected[:3], scored[-1]["predictions"])


def test_model_info_describes_the_schema_and_task(served: Served) -> None:
    info = served.process.request("GET", "/model-info").json()
    columns = list(served.fitted.train.columns)
    assert info["feature_names"] == columns
    assert [f["name"] for f in info["input_schema"]] == columns
    classifier = hasattr(served.fitted.estimator, "classes_")
    assert info["task"]["type"] == ("classification" if classifier else "regression")
    for feature, column in zip(info["input_schema"], columns, strict=True):
        numeric = served.fitted.train[column].dtype.kind in "if"
        assert feature["type"] == ("numeric" if numeric else "categorical")


def _bad_rows(served: Served) -> list[tuple[dict[str, Any], str]]:
    """(row, text the error must hold) for every kind of field this model has."""
    row, schema = served.rows[0], served.process.request("GET", "/model-info").json()
    cases: list[tuple[dict[str, Any], str]] = [
        ({k: v for k, v in row.items() if k != next(iter(row))}, "missing feature"),
        ({**row, "not_a_feature": 1}, 'unknown feature "not_a_feature"'),
    ]
    for feature in schema["input_schema"]:
        name = feature["name"]
        if feature["type"] == "numeric":
            cases.append(({**row, name: "abc"}, f'.{name}: expected a finite number, got "abc"'))
        else:
            cases.append(({**row, name: [1]}, f".{name}: [1] is not one of"))
            if feature["unknown"] == "error":
                cases.append(({**row, name: "never-seen"}, f'.{name}: "never-seen" is not one of'))
        if not feature["nullable"]:
            cases.append(({**row, name: None}, f".{name}: "))
    return cases


def test_bad_input_for_every_kind_of_field_is_400_and_the_next_request_is_served(
    served: Served,
) -> None:
    for row, text in _bad_rows(served):
        for path, body in [
            ("/predict", {"instances": [served.rows[1], row]}),
            (f"/v1/models/{served.kind}:predict", {"instances": [row]}),
        ]:
            reply = served.process.post_json(path, body)
            error = assert_error_body(
                reply.status, reply.headers.get("Content-Type"), reply.json(), 400, "invalid_input"
            )
            assert text in error["error"], (path, row, error)
        served.ok()


@pytest.mark.parametrize("served", ["hist_gradient_boosting", "pipeline"], indirect=True)
def test_an_unseen_category_the_model_ignores_is_scored_with_a_warning(served: Served) -> None:
    schema = served.process.request("GET", "/model-info").json()["input_schema"]
    ignored = [f["name"] for f in schema if f["type"] == "categorical" and f["unknown"] == "ignore"]
    assert ignored[0] == "embarked"  # and sex too for the boosted trees
    row = {**served.rows[0], ignored[0]: "never-seen"}
    reply = served.process.post_json("/predict", {"features": row})
    assert reply.status == 200, reply.body
    warnings = reply.json()["warnings"]
    assert [w["feature"] for w in warnings] == [ignored[0]]
    assert warnings[0]["value"] == "never-seen"
    logged = served.process.log_lines()[-1]["irisserve"]
    assert logged["unseen_categories"] == {ignored[0]: 1}


@pytest.mark.parametrize(
    "served", ["logistic_binary", "logistic_multiclass", "random_forest"], indirect=True
)
def test_v2_tensor_of_a_numeric_classifier_answers_what_the_estimator_answers(
    served: Served,
) -> None:
    rows = served.fitted.test.to_numpy(dtype=float)
    infer = {
        "inputs": [
            {
                "name": "input-0",
                "datatype": "FP64",
                "shape": list(rows.shape),
                "data": rows.ravel().tolist(),
            }
        ]
    }
    reply = served.process.post_json(f"/v2/models/{served.kind}/infer", infer)
    assert reply.status == 200, reply.body
    outputs = {output["name"]: output for output in reply.json()["outputs"]}
    classes = served.fitted.estimator.classes_.tolist()
    labels = [classes[i] for i in outputs["predict"]["data"]]
    assert outputs["label"]["data"] == [e["prediction_label"] for e in served.expected]
    assert labels == [e["prediction"] for e in served.expected]
    probabilities = np.array(outputs["predict_proba"]["data"]).reshape(len(rows), -1)
    expected = [list(e["probabilities"].values()) for e in served.expected]
    np.testing.assert_allclose(probabilities, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("rows", [3, None])  # a few rows (scored as lists), all of them
def test_v2_one_input_per_feature_answers_what_the_estimator_answers(
    served: Served, rows: int | None
) -> None:
    complete = served.fitted.test.dropna().iloc[:rows]  # V2 tensors carry no null
    inputs = [
        {"name": name, "datatype": "FP64", "shape": [len(column), 1], "data": column.tolist()}
        if column.dtype.kind in "if"
        else {
            "name": name,
            "datatype": "BYTES",
            "shape": [len(column)],
            "data": column.astype(str).tolist(),
        }
        for name, column in complete.astype(
            {c: float for c in complete.select_dtypes("number")}
        ).items()
    ]
    reply = served.process.post_json(f"/v2/models/{served.kind}/infer", {"inputs": inputs})
    assert reply.status == 200, reply.body
    outputs = {output["name"]: output for output in reply.json()["outputs"]}
    expected = expected_objects(served.fitted.estimator, complete)
    if not hasattr(served.fitted.estimator, "classes_"):
        assert outputs["predict"]["datatype"] == "FP64"
        values = [e["prediction"] for e in expected]
        np.testing.assert_allclose(outputs["predict"]["data"], values, rtol=1e-12, atol=0)
        return
    classes = served.fitted.estimator.classes_.tolist()
    assert [classes[i] for i in outputs["predict"]["data"]] == [e["prediction"] for e in expected]
    assert outputs["label"]["data"] == [e["prediction_label"] for e in expected]
    scores = "predict_proba" if "predict_proba" in outputs else "decision_function"
    got = np.array(outputs[scores]["data"]).reshape(len(complete), -1)
    want = [
        list(e["probabilities"].values()) if scores == "predict_proba" else e["decision_function"]
        for e in expected
    ]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


def test_v2_metadata_describes_the_inputs_and_outputs(served: Served) -> None:
    metadata = served.process.request("GET", f"/v2/models/{served.kind}").json()
    schema = served.process.request("GET", "/model-info").json()["input_schema"]
    names = [output["name"] for output in metadata["outputs"]]
    if all(f["type"] == "numeric" for f in schema):
        assert metadata["inputs"] == [
            {"name": "input-0", "datatype": "FP64", "shape": [-1, len(schema)]}
        ]
    else:
        assert [(i["name"], i["datatype"]) for i in metadata["inputs"]] == [
            (f["name"], "FP64" if f["type"] == "numeric" else "BYTES") for f in schema
        ]
    if hasattr(served.fitted.estimator, "predict_proba"):
        assert names == ["predict", "predict_proba", "label"]
    elif hasattr(served.fitted.estimator, "classes_"):
        assert names == ["predict", "decision_function", "label"]
    else:
        assert metadata["outputs"] == [{"name": "predict", "datatype": "FP64", "shape": [-1]}]


@pytest.mark.parametrize("served", ["pipeline"], indirect=True)
def test_v2_bad_inputs_of_a_model_with_categories_are_400s(served: Served) -> None:
    row = {"age": [30.0], "fare": [7.25], "pclass": [3.0], "embarked": ["S"], "sex": ["x"]}
    inputs = [
        {"name": k, "datatype": "BYTES" if type(v[0]) is str else "FP64", "shape": [1], "data": v}
        for k, v in row.items()
    ]
    tensor = {"name": "input-0", "datatype": "FP64", "shape": [1, 5], "data": [0.0] * 5}
    for body, text in [
        ({"inputs": inputs}, 'inputs[4].data[0]: "x" is not one of f, m'),
        ({"inputs": [tensor]}, "one input per feature"),
        ({"inputs": [{**inputs[0], "datatype": "BYTES", "data": ["30"]}, *inputs[1:]]}, "BYTES"),
    ]:
        reply = served.process.post_json("/v2/models/pipeline/infer", body)
        error = assert_error_body(
            reply.status, reply.headers.get("Content-Type"), reply.json(), 400, "invalid_input"
        )
        assert text in error["error"]
        served.ok()


# ------------------------------------------------------------------ the command line


def package(folder: Path, model: Any, frame: pd.DataFrame, target: str) -> tuple[int, str]:
    """Run ``python -m irisserve.packaging`` on ``model`` and ``frame``: its status and stderr."""
    joblib.dump(model, folder / "model.joblib")
    frame.to_csv(folder / "train.csv", index=False)
    data, out = str(folder / "train.csv"), str(folder / "out")
    command = [sys.executable, "-m", "irisserve.packaging", str(folder / "model.joblib")]
    done = subprocess.run(
        [*command, "--data", data, "--target", target, "--output", out],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return done.returncode, done.stderr


@pytest.mark.parametrize(
    ("kind", "last_line"),
    [
        ("pipeline", "served by: fast (scorer.json), pickle-free, without scikit-learn"),
        (
            "svc",
            "served by: sklearn (model.joblib); not the fast path: SVC has no pickle-free export",
        ),
    ],
)
def test_the_command_ends_saying_which_backend_serves_the_model(
    tmp_path: Path, kind: str, last_line: str
) -> None:
    fitted = BUILDERS[kind]()
    status, err = package(tmp_path, fitted.estimator, fitted.train.assign(y=fitted.y), "y")
    assert status == 0, err
    lines = err.splitlines()
    assert lines[0].startswith(f"wrote {tmp_path / 'out'}: ")
    assert lines[1:] == [last_line]
    assert open_artifact(tmp_path / "out").backend == last_line.split()[2]


def _two_targets() -> tuple[Any, pd.DataFrame]:
    x = pd.DataFrame(np.random.default_rng(0).normal(size=(30, 3)), columns=["a", "b", "c"])
    targets = pd.DataFrame({"y": x.sum(axis=1), "z": x["a"]})
    return LinearRegression().fit(x, targets), pd.concat([x, targets], axis=1)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (_two_targets, "error: LinearRegression predicts 2 values per row (shape (1, 2))"),
    ],
)
def test_the_command_refuses_what_it_cannot_serve_with_a_sentence(
    tmp_path: Path, build: Callable[[], tuple[Any, pd.DataFrame]], message: str
) -> None:
    status, err = package(tmp_path, *build(), "y")
    assert (status, err.splitlines()[-1][: len(message)]) == (2, message), err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_library_missing_where_the_model_is_served_is_named_not_blamed_on_the_artifact(
    tmp_path: Path,
) -> None:
    with local_module_model(tmp_path, "irisserve_packaging_only") as fitted:
        write_artifact(fitted.estimator, fitted.train, tmp_path / "out", name="m", version="1")
        rows = json_rows(fitted.test.head(1))
    with FunctionProcess(env={"IRISSERVE_MODEL_DIR": str(tmp_path / "out")}) as process:
        reply = process.post_json("/predict", {"features": rows[0]})
    error = assert_error_body(
        reply.status, reply.headers.get("Content-Type"), reply.json(), 503, "artifact_incompatible"
    )
    assert error["error"].startswith(
        "model.joblib needs the Python module 'irisserve_packaging_only', which this process "
        "cannot import: install "
    )

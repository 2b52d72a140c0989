"""The explain routes over HTTP: a real functions-framework process per artifact.

Fresh artifacts (packaged with ``explain.npz``) are explained exactly: the answers add up to
the model's own margin and equal shap's; the bundled artifact, packaged before explanations,
as main packaged it (before ``explain.npz``) is refused with a 409 telling the user to
repackage, and the bundled one, repackaged, is explained; bad bodies are refused as /predict
refuses them; a model outside the fast path is explained by shap, or refused with a 501
naming the extra when shap cannot be imported.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shap
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.neighbors import KNeighborsClassifier

from irisserve.packaging import write_artifact
from tests.helpers.old_artifact import old_artifact
from tests.helpers.processes import FunctionProcess
from tests.helpers.support import IRIS_FEATURES, SETOSA, VIRGINICA

pytestmark = pytest.mark.integration

ROWS = [SETOSA, VIRGINICA, [6.0, 2.9, 4.5, 1.5]]


def _iris() -> tuple[pd.DataFrame, pd.Series]:
    data = load_iris(as_frame=True)
    x = data.data.set_axis(IRIS_FEATURES, axis=1)
    return x, data.target


@pytest.fixture(scope="module")
def forest(tmp_path_factory: pytest.TempPathFactory) -> tuple[RandomForestClassifier, Path]:
    x, y = _iris()
    estimator = RandomForestClassifier(25, max_depth=5, random_state=0).fit(x, y)
    folder = tmp_path_factory.mktemp("forest")
    write_artifact(estimator, x, folder, name="flowers", version="2", y=y)
    return estimator, folder


@pytest.fixture(scope="module")
def server(forest: tuple[RandomForestClassifier, Path]) -> Iterator[FunctionProcess]:
    with FunctionProcess(env={"IRISSERVE_MODEL_DIR": str(forest[1])}) as process:
        yield process


def test_native_explain_is_shaps_and_adds_up_to_the_probabilities(
    server: FunctionProcess, forest: tuple[RandomForestClassifier, Path]
) -> None:
    reply = server.post_json("/explain", {"instances": ROWS})
    assert reply.status == 200, reply.body
    answer = reply.json()
    assert answer["model_version"] == "2"
    predicted = server.post_json("/predict", {"instances": ROWS}).json()["predictions"]
    oracle = shap.TreeExplainer(forest[0], feature_perturbation="tree_path_dependent")
    values = oracle.shap_values(pd.DataFrame(ROWS, columns=IRIS_FEATURES))
    for r, (entry, prediction) in enumerate(zip(answer["explanations"], predicted, strict=True)):
        assert entry["outputs"] == ["0", "1", "2"]
        assert entry["space"] == "probability"
        assert entry["prediction"] == prediction["prediction"]
        assert list(entry["attributions"]) == IRIS_FEATURES
        ours = np.array([entry["attributions"][f] for f in IRIS_FEATURES])
        assert np.abs(ours - values[r]).max() <= 1e-9
        total = np.array(entry["baseline"]) + ours.sum(axis=0)
        probabilities = [prediction["probabilities"][c] for c in entry["outputs"]]
        assert np.abs(total - probabilities).max() <= 1e-9
    single = server.post_json("/explain", {"features": SETOSA}).json()["explanations"]
    assert single == answer["explanations"][:1]


def test_kserve_and_vertex_answers(server: FunctionProcess) -> None:
    native = server.post_json("/explain", {"instances": ROWS}).json()["explanations"]
    kserve = server.post_json("/v1/models/flowers:explain", {"instances": ROWS})
    assert kserve.status == 200
    predictions = server.post_json("/v1/models/flowers:predict", {"instances": ROWS}).json()
    assert kserve.json() == {"predictions": predictions["predictions"], "explanations": native}
    body = {"instances": ROWS, "parameters": {"format": "vertex"}}
    vertex = server.post_json("/v1/models/flowers:explain", body).json()["explanations"]
    assert len(vertex) == len(ROWS)
    for row, entry in zip(vertex, native, strict=True):
        assert [a["outputIndex"] for a in row["attributions"]] == [[0], [1], [2]]
        for k, attribution in enumerate(row["attributions"]):
            assert attribution["outputDisplayName"] == entry["outputs"][k]
            assert attribution["baselineOutputValue"] == entry["baseline"][k]
            by_feature = {f: v[k] for f, v in entry["attributions"].items()}
            assert attribution["featureAttributions"] == by_feature
            total = entry["baseline"][k] + sum(by_feature.values())
            assert attribution["instanceOutputValue"] == pytest.approx(total, abs=1e-12)
    wrong = server.post_json("/v1/models/other:explain", {"instances": ROWS})
    assert (wrong.status, wrong.json()["code"]) == (404, "not_found")
    bad = server.post_json("/v1/models/flowers:explain", {**body, "parameters": {"format": "x"}})
    assert (bad.status, bad.json()["code"]) == (400, "invalid_input")


@pytest.mark.parametrize(
    "body",
    [
        b"{oops",
        b"[]",
        b'{"features": [1, 2]}',
        b'{"features": [1, 2, "x", 4]}',
        b'{"instances": []}',
        b'{"features": [1, 2, 3, 4], "extra": 1}',
        b'{"features": [1, 2, 3, NaN]}',
        b'{"instances": [[1, 2, 3, 4], {"sepal_length": 1}]}',
    ],
)
def test_bad_bodies_are_refused_as_predict_refuses_them(
    server: FunctionProcess, body: bytes
) -> None:
    headers = {"Content-Type": "application/json"}
    predicted = server.request("POST", "/predict", body, headers)
    explained = server.request("POST", "/explain", body, headers)
    assert predicted.status in (400, 413)
    assert (explained.status, explained.json()) == (predicted.status, predicted.json())
    v1 = body.replace(b'"features": [1', b'"instances": [[1').replace(b"4]", b"4]]")
    if b"instances" in v1 and b"extra" not in v1:
        predicted = server.request("POST", "/v1/models/flowers:predict", v1, headers)
        explained = server.request("POST", "/v1/models/flowers:explain", v1, headers)
        assert (explained.status, explained.json()) == (predicted.status, predicted.json())


def test_an_artifact_packaged_before_explanations_is_refused_with_a_409(tmp_path: Path) -> None:
    env = {"IRISSERVE_MODEL_DIR": str(old_artifact(tmp_path / "old"))}
    with FunctionProcess(env=env) as bundled:  # the bundled artifact, as main packaged it
        assert bundled.post_json("/predict", {"features": SETOSA}).status == 200
        reply = bundled.post_json("/explain", {"features": SETOSA})
        assert reply.status == 409
        assert reply.json()["code"] == "repackage_to_explain"
        assert "repackage" in reply.json()["error"]
        v1 = bundled.post_json("/v1/models/iris:explain", {"instances": [SETOSA]})
        assert (v1.status, v1.json()) == (409, reply.json())


@pytest.fixture(scope="module")
def neighbours(tmp_path_factory: pytest.TempPathFactory) -> tuple[KNeighborsClassifier, Path]:
    x, y = _iris()
    estimator = KNeighborsClassifier(5).fit(x, y)
    folder = tmp_path_factory.mktemp("neighbours")
    write_artifact(estimator, x, folder, name="knn", version="1", y=y)
    assert "scorer.json" not in json.loads((folder / "manifest.json").read_text())["files"]
    return estimator, folder


def test_a_model_outside_the_fast_path_is_explained_by_shap(
    neighbours: tuple[KNeighborsClassifier, Path],
) -> None:
    with FunctionProcess(env={"IRISSERVE_MODEL_DIR": str(neighbours[1])}) as process:
        reply = process.post_json("/explain", {"instances": ROWS})
    assert reply.status == 200, reply.body
    probabilities = neighbours[0].predict_proba(np.array(ROWS))
    for entry, expected in zip(reply.json()["explanations"], probabilities, strict=True):
        assert entry["space"] == "probability"
        by_output = np.array(list(entry["attributions"].values())).sum(axis=0)
        assert np.abs(np.array(entry["baseline"]) + by_output - expected).max() <= 1e-9


def test_without_shap_a_model_outside_the_fast_path_is_a_501(
    neighbours: tuple[KNeighborsClassifier, Path], tmp_path: Path
) -> None:
    (tmp_path / "shap").mkdir()  # a shap that cannot be imported shadows the real one
    (tmp_path / "shap" / "__init__.py").write_text('raise ImportError("no shap here")\n')
    import os

    path = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    env = {"IRISSERVE_MODEL_DIR": str(neighbours[1]), "PYTHONPATH": path}
    with FunctionProcess(env=env) as process:
        assert process.post_json("/predict", {"features": SETOSA}).status == 200
        reply = process.post_json("/explain", {"features": SETOSA})
    assert reply.status == 501
    assert reply.json()["code"] == "not_implemented"
    assert "irisserve[explain]" in reply.json()["error"]


def test_the_bundled_artifact_is_explained() -> None:
    with FunctionProcess() as bundled:
        reply = bundled.post_json("/explain", {"features": SETOSA})
        predicted = bundled.post_json("/predict", {"features": SETOSA}).json()
    assert reply.status == 200, reply.body
    (entry,) = reply.json()["explanations"]
    assert (entry["space"], entry["outputs"]) == ("log_odds", ["setosa", "versicolor", "virginica"])
    assert entry["prediction"] == predicted["prediction"]

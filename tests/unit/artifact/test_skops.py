"""The skops artifact: written by ``--skops``, served without unpickling, the rest refused."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import flask
import numpy as np
import pytest
import skops.io
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier

from irisserve.artifact.folder import open_artifact
from irisserve.artifact.manifest import sha256_bytes
from irisserve.artifact.skops import SKOPS_NAME, dumps, load_estimator
from irisserve.errors import ArtifactIntegrityError, ConfigurationError, UntrustedArtifact
from tests.helpers.processes import MAIN
from tests.helpers.support import REPO, SETOSA, FunctionProcess, edit_manifest
from training.train import main as train_main


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An artifact folder written by ``python -m training.train --skops``."""
    folder = tmp_path_factory.mktemp("skops") / "model"
    assert train_main(["--output", str(folder), "--skops"]) == 0
    return folder


@pytest.fixture
def artifact(trained: Path, tmp_path: Path) -> Path:
    """A writable copy of the trained artifact."""
    return Path(shutil.copytree(trained, tmp_path / "model"))


def replace_skops(folder: Path, data: bytes) -> None:
    """Swap ``model.skops`` and record its sha256, as whoever controls the folder could."""
    (folder / SKOPS_NAME).write_bytes(data)
    files = json.loads((folder / "manifest.json").read_text())["files"]
    edit_manifest(folder, files={**files, SKOPS_NAME: sha256_bytes(data)})


def test_training_lists_the_skops_file_in_the_manifest(trained: Path) -> None:
    files = json.loads((trained / "manifest.json").read_text())["files"]
    assert set(files) == {"model.joblib", "scorer.json", "explain.npz", SKOPS_NAME}
    assert files[SKOPS_NAME] == sha256_bytes((trained / SKOPS_NAME).read_bytes())


def test_the_skops_model_answers_exactly_as_the_pickle(trained: Path) -> None:
    rows = np.asarray(load_iris().data, dtype=np.float64)
    served = open_artifact(trained, "skops")
    pickled = open_artifact(trained, "sklearn")
    assert served.backend == "skops"
    assert type(served.scorer.estimator).__name__ == "LogisticRegression"
    ours, theirs = served.predict_rows(rows), pickled.predict_rows(rows)
    assert np.array_equal(ours.labels, theirs.labels)
    assert np.array_equal(ours.probabilities, theirs.probabilities)


def test_auto_prefers_skops_to_unpickling(artifact: Path) -> None:
    files = json.loads((artifact / "manifest.json").read_text())["files"]
    del files["scorer.json"]
    edit_manifest(artifact, files=files)
    assert open_artifact(artifact).backend == "skops"


def test_a_type_outside_the_trusted_list_is_refused(artifact: Path) -> None:
    estimator = open_artifact(artifact, "sklearn").scorer.estimator
    replace_skops(artifact, dumps({"model": estimator, "hook": os.system}))
    with pytest.raises(UntrustedArtifact, match=r"does not trust: posix\.system"):
        open_artifact(artifact, "skops")


def test_a_file_that_is_not_skops_is_an_integrity_error(artifact: Path) -> None:
    replace_skops(artifact, b"not a zip file")
    with pytest.raises(ArtifactIntegrityError, match="could not be read"):
        open_artifact(artifact, "skops")


def test_the_allow_list_admits_scikit_learn_trees() -> None:
    features, labels = load_iris(return_X_y=True)
    forest = RandomForestClassifier(n_estimators=2, random_state=0).fit(features, labels)
    data = dumps(forest)
    assert skops.io.get_untrusted_types(data=data) == ["sklearn.tree._tree.Tree"]
    loaded = load_estimator(data)
    assert np.array_equal(loaded.predict(features), forest.predict(features))


def test_an_untrusted_artifact_is_a_503_naming_the_type(
    artifact: Path, client: flask.testing.FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    replace_skops(artifact, dumps({"hook": os.system}))
    monkeypatch.setenv("IRISSERVE_MODEL_DIR", str(artifact))
    monkeypatch.setenv("IRISSERVE_SCORER", "skops")
    response = client.post("/predict", json={"features": SETOSA})
    assert response.status_code == 503
    assert response.get_json()["code"] == "artifact_untrusted"
    assert "posix.system" in response.get_json()["error"]
    assert response.headers["Retry-After"]


@pytest.mark.integration
def test_the_real_process_serves_the_skops_artifact(trained: Path) -> None:
    env = {"IRISSERVE_MODEL_DIR": str(trained), "IRISSERVE_SCORER": "skops"}
    with FunctionProcess(env=env) as process:
        reply = process.post_json("/predict", {"features": SETOSA})
        assert reply.status == 200
        assert reply.json()["prediction_label"] == "setosa"
        assert process.request("GET", "/model-info").json()["backend"] == "skops"


def test_skops_is_not_imported_on_the_default_path() -> None:
    code = (
        "import sys\n"
        "from functions_framework import create_app\n"
        f"client = create_app(target='predict', source={str(MAIN)!r}).test_client()\n"
        f"assert client.post('/predict', json={{'features': {SETOSA}}}).status_code == 200\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'skops'))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRISSERVE_")}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_without_skops_installed_the_scorer_is_misconfigured(
    trained: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "skops", None)  # what `import skops` sees when absent
    monkeypatch.setitem(sys.modules, "skops.io", None)
    with pytest.raises(ConfigurationError, match=r"install irisserve\[skops\]"):
        open_artifact(trained, "skops")

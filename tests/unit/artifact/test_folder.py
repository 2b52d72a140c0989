"""irisserve.artifact.folder: verify before deserialising, refuse other scikit-learn versions."""

from __future__ import annotations

import json
import pickle
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest

from irisserve.artifact import folder
from irisserve.artifact.folder import open_artifact
from irisserve.artifact.manifest import read_manifest, sha256_bytes
from irisserve.artifact.model import Model
from irisserve.errors import (
    ArtifactIntegrityError,
    ArtifactMissing,
    IncompatibleArtifact,
    InvalidInput,
    ModelUnavailable,
)
from irisserve.packaging import write_artifact
from irisserve.scorers.estimator import SklearnScorer
from tests.helpers.own_models import local_module_model
from tests.helpers.support import BUNDLED, IRIS_ROWS, SETOSA, break_artifact, edit_manifest


def test_auto_serves_the_pickle_free_export() -> None:
    model = open_artifact(BUNDLED)
    assert model.backend == "fast"
    assert model.version == "1.0.0"
    predictions = model.predict_rows(np.array([SETOSA]))
    assert predictions.labels == [0]
    assert np.shape(predictions.probabilities) == (1, 3)
    assert np.sum(predictions.probabilities) == pytest.approx(1.0)


def test_sklearn_backend_unpickles_the_joblib_file() -> None:
    model = open_artifact(BUNDLED, "sklearn")
    assert model.backend == "sklearn"
    assert isinstance(model.scorer, SklearnScorer)
    assert type(model.scorer.estimator).__name__ == "LogisticRegression"


def test_both_backends_agree_on_every_iris_row() -> None:
    from sklearn.datasets import load_iris

    rows = np.asarray(load_iris().data, dtype=np.float64)
    fast = open_artifact(BUNDLED, "fast").predict_rows(rows)
    sklearn = open_artifact(BUNDLED, "sklearn").predict_rows(rows)
    assert np.array_equal(fast.labels, sklearn.labels)
    difference = np.subtract(fast.probabilities, sklearn.probabilities)
    assert np.abs(difference).max() <= 1e-12


def test_without_a_fast_export_auto_falls_back_to_joblib(artifact_dir: Path) -> None:
    files = json.loads((artifact_dir / "manifest.json").read_text())["files"]
    edit_manifest(artifact_dir, files={"model.joblib": files["model.joblib"]})
    (artifact_dir / "scorer.json").unlink()
    assert open_artifact(artifact_dir).backend == "sklearn"
    with pytest.raises(ArtifactIntegrityError, match="lists no scorer.json"):
        open_artifact(artifact_dir, "fast")


def test_an_artifact_served_from_the_removed_linear_json_is_refused(artifact_dir: Path) -> None:
    """Its manifest lists linear.json beside model.joblib: auto does not unpickle instead."""
    (artifact_dir / "scorer.json").rename(artifact_dir / "linear.json")
    manifest = json.loads((artifact_dir / "manifest.json").read_text())
    files = manifest["files"]
    files["linear.json"] = files.pop("scorer.json")
    edit_manifest(artifact_dir, files=files, linear_export={"served": True})
    with pytest.raises(IncompatibleArtifact, match="linear.json, a format .* no longer reads"):
        open_artifact(artifact_dir)
    assert open_artifact(artifact_dir, "sklearn").backend == "sklearn"  # when asked for


@pytest.mark.parametrize(
    ("how", "kind", "message"),
    [
        ("missing", ArtifactMissing, "does not exist"),
        ("truncated", ArtifactIntegrityError, "scorer.json has sha256"),
        ("tampered", ArtifactIntegrityError, "model.joblib has sha256"),
        ("other-sklearn", IncompatibleArtifact, "install scikit-learn==0.24.2"),
    ],
)
def test_broken_artifacts_are_refused_with_a_reason(
    artifact_dir: Path, how: str, kind: type[Exception], message: str
) -> None:
    break_artifact(artifact_dir, how)
    with pytest.raises(kind, match=message) as caught:
        open_artifact(artifact_dir)
    assert isinstance(caught.value, ModelUnavailable)


def test_a_tampered_pickle_is_never_unpickled(artifact_dir: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (open, (str(marker), "w"))

    (artifact_dir / "model.joblib").write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ArtifactIntegrityError, match="sha256"):
        open_artifact(artifact_dir, "sklearn")
    assert not marker.exists()


def test_a_pickle_that_fails_to_load_is_an_integrity_error(artifact_dir: Path) -> None:
    garbage = b"not a pickle at all"
    (artifact_dir / "model.joblib").write_bytes(garbage)
    files = json.loads((artifact_dir / "manifest.json").read_text())["files"]
    edit_manifest(artifact_dir, files={**files, "model.joblib": sha256_bytes(garbage)})
    with pytest.raises(ArtifactIntegrityError, match="could not be loaded"):
        open_artifact(artifact_dir, "sklearn")


def test_the_fast_export_scores_arrays_in_numpy_as_it_scores_lists(model: Model) -> None:
    rows = np.array(IRIS_ROWS, dtype=np.float64)
    arrays = model.predict_rows(rows)
    lists = model.predict_rows(rows.tolist())
    assert model.backend == "fast"
    assert arrays.labels is not None
    assert arrays.probabilities is not None
    assert arrays == lists
    with pytest.raises(InvalidInput, match="row 1: .* overflow"):
        model.predict_rows(np.array([[5.1, 3.5, 1.4, 0.2], [1e308] * 4]))


def test_the_installed_wheel_is_read_from_its_folder_name() -> None:
    installed = version("scikit-learn")
    assert folder._sklearn_wheel_is(installed)  # the fast path a cold start takes
    assert not folder._sklearn_wheel_is("0.24.2")  # then importlib.metadata decides


def test_a_pickle_needing_a_missing_library_names_it_and_says_to_install_it(
    tmp_path: Path,
) -> None:
    with local_module_model(tmp_path, "irisserve_gone_steps") as fitted:
        write_artifact(fitted.estimator, fitted.train, tmp_path / "out", name="m", version="1")
    assert folder.auto_backend(read_manifest(tmp_path / "out")) == "sklearn"
    with pytest.raises(IncompatibleArtifact) as refused:
        open_artifact(tmp_path / "out")
    assert str(refused.value) == (
        "model.joblib needs the Python module 'irisserve_gone_steps', which this process "
        "cannot import: install the library that provides 'irisserve_gone_steps' beside "
        "irisserve, or repackage the model without it"
    )
    assert not isinstance(refused.value, ArtifactIntegrityError)


def test_a_missing_library_the_manifest_records_is_named_with_its_version(
    tmp_path: Path,
) -> None:
    with local_module_model(tmp_path, "irisserve_gone_steps") as fitted:
        write_artifact(fitted.estimator, fitted.train, tmp_path / "out", name="m", version="1")
    libraries = read_manifest(tmp_path / "out").libraries
    edit_manifest(tmp_path / "out", libraries={**libraries, "irisserve-gone-steps": "2.1.0"})
    with pytest.raises(IncompatibleArtifact, match=r"install irisserve-gone-steps==2\.1\.0 \("):
        open_artifact(tmp_path / "out", "sklearn")

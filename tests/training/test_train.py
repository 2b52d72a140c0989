"""training.train: deterministic artifacts that the loader accepts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris
from threadpoolctl import threadpool_limits

from irisserve.artifact.folder import open_artifact
from irisserve.artifact.manifest import read_manifest
from irisserve.config import Settings
from irisserve.packaging.build import created_at
from irisserve.serving import state
from tests.helpers.support import BUNDLED, run_python
from training.compare import artifact_differences
from training.train import main, train


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    first = tmp_path_factory.mktemp("first")
    second = tmp_path_factory.mktemp("second")
    train(first)
    train(second)
    return first, second


def test_training_twice_gives_byte_identical_files(two_runs: tuple[Path, Path]) -> None:
    first, second = two_runs
    for name in ("model.joblib", "scorer.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    assert read_manifest(first).files == read_manifest(second).files


def test_manifests_differ_at_most_in_creation_time(two_runs: tuple[Path, Path]) -> None:
    first, second = (json.loads((run / "manifest.json").read_text()) for run in two_runs)
    first.pop("created_at")
    second.pop("created_at")
    assert first == second


def test_source_date_epoch_fixes_the_creation_time(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    assert created_at() == "2026-01-01T00:00:00Z"
    train(tmp_path / "a")
    train(tmp_path / "b")
    assert (tmp_path / "a" / "manifest.json").read_bytes() == (
        tmp_path / "b" / "manifest.json"
    ).read_bytes()


def test_the_export_matches_scikit_learn_exactly(two_runs: tuple[Path, Path]) -> None:
    manifest = read_manifest(two_runs[0])
    export = manifest.fast_export
    assert export is not None
    assert export["served"] is True
    assert export["labels_equal"] is True
    assert export["batch_invariant"] is True
    assert export["max_difference"] <= 1e-12
    assert set(manifest.files) == {"model.joblib", "scorer.json", "explain.npz"}
    assert open_artifact(two_runs[0]).backend == "fast"


def test_the_manifest_records_the_training(two_runs: tuple[Path, Path]) -> None:
    """Through the packaging API, and what training knows beside it."""
    manifest = read_manifest(two_runs[0])
    assert manifest.hyperparameters == {"C": 1.0, "solver": "lbfgs", "max_iter": 1000, "tol": 1e-4}
    assert manifest.random_seed == 42
    assert manifest.training_data["name"] == "iris (scikit-learn load_iris)"
    assert len(manifest.training_data["sha256"]) == 64
    assert manifest.class_names == ["setosa", "versicolor", "virginica"]
    assert set(manifest.metrics["per_class"]) == set(manifest.class_names)
    assert [f.name for f in manifest.features] == manifest.feature_names
    assert manifest.feature_names[0] == "sepal_length"
    assert manifest.prediction_task.scores == "predict_proba"


def test_a_fresh_training_reproduces_the_bundled_artifact(two_runs: tuple[Path, Path]) -> None:
    # The bundled artifact was trained on another machine (another BLAS kernel, perhaps):
    # model files byte for byte, the manifest but for when and where it was trained.
    assert artifact_differences(two_runs[0], BUNDLED) == []


def test_the_blas_thread_count_does_not_change_the_model(
    two_runs: tuple[Path, Path], tmp_path: Path
) -> None:
    with threadpool_limits(limits=1):
        train(tmp_path)
    assert artifact_differences(tmp_path, two_runs[0]) == []


def test_a_model_unpickled_earlier_in_the_process_does_not_change_the_bytes(
    tmp_path: Path,
) -> None:
    # Pickle memoises by identity: a LogisticRegression unpickled first shares its
    # attribute-name strings with every later one in the process.
    script = (
        "import sys, joblib; joblib.load(sys.argv[1] + '/model.joblib');"
        "from training.train import main; "
        "raise SystemExit(main(['--output', sys.argv[2], '--compare', sys.argv[1]]))"
    )
    run_python(script, str(BUNDLED), str(tmp_path), timeout=120)


def test_the_manifest_names_the_blas_training_ran_on(two_runs: tuple[Path, Path]) -> None:
    blas = read_manifest(two_runs[0]).platform["blas"]
    assert "threads" in blas
    assert blas.split()[0] in {"openblas", "mkl", "blis", "none"}


def test_a_difference_is_reported_not_hidden(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(two_runs[0], copy)
    (copy / "scorer.json").write_text((copy / "scorer.json").read_text().replace("1", "2", 1))
    assert artifact_differences(copy, two_runs[0]) == ["scorer.json differs"]
    assert main(["--output", str(tmp_path / "fresh"), "--compare", str(copy)]) == 1
    assert main(["--output", str(tmp_path / "fresh"), "--compare", str(two_runs[0])]) == 0


def test_predictions_are_identical_across_loads() -> None:
    rows = np.asarray(load_iris().data, dtype=np.float64)
    first = state.get_model(Settings()).predict_rows(rows)
    state.reset()
    second = state.get_model(Settings()).predict_rows(rows)
    assert np.array_equal(first.labels, second.labels)
    assert np.array_equal(first.probabilities, second.probabilities)


def test_metrics_come_from_the_held_out_split(two_runs: tuple[Path, Path]) -> None:
    manifest = read_manifest(two_runs[0])
    assert manifest.training_data["test_rows"] == 30
    assert manifest.metrics["split"] == "test"
    assert sum(c["support"] for c in manifest.metrics["per_class"].values()) == 30

"""irisserve.artifact.manifest: one format, written and read by the same code."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from irisserve.artifact.manifest import (
    SCHEMA_VERSION,
    Manifest,
    read_manifest,
    sha256_bytes,
    sha256_file,
    verify_files,
    write_manifest,
)
from irisserve.errors import ArtifactIntegrityError, ArtifactMissing, UntrustedArtifact
from tests.helpers.support import BUNDLED, edit_manifest


def test_bundled_manifest_has_everything_the_card_asks_for() -> None:
    manifest = read_manifest(BUNDLED)
    assert manifest.schema_version == SCHEMA_VERSION
    assert manifest.model_version == "1.0.0"
    assert set(manifest.files) == {"model.joblib", "scorer.json", "explain.npz"}
    assert set(manifest.libraries) == {"python", "scikit-learn", "numpy", "joblib"}
    assert len(manifest.training_data["sha256"]) == 64
    assert manifest.hyperparameters["solver"] == "lbfgs"
    assert isinstance(manifest.random_seed, int)
    assert 0.9 <= manifest.metrics["accuracy"] <= 1.0
    assert set(manifest.metrics["per_class"]) == set(manifest.class_names)
    assert manifest.feature_names == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert manifest.class_names == ["setosa", "versicolor", "virginica"]
    for name in manifest.feature_names:
        stats = manifest.feature_statistics[name]
        assert stats.min <= stats.mean <= stats.max
        assert stats.std > 0
    assert manifest.platform["machine"]
    assert "threads" in manifest.platform["blas"]


def test_write_then_read_round_trips(tmp_path: Path) -> None:
    manifest = replace(read_manifest(BUNDLED), model_version="2.0.0")
    write_manifest(tmp_path, manifest)
    assert read_manifest(tmp_path) == manifest
    assert (tmp_path / "manifest.json").read_text() == manifest.to_json()


def test_serialisation_is_deterministic() -> None:
    manifest = read_manifest(BUNDLED)
    assert manifest.to_json() == Manifest.from_json(manifest.to_json()).to_json()
    assert manifest.to_json() == (BUNDLED / "manifest.json").read_text()


def test_missing_manifest(tmp_path: Path) -> None:
    with pytest.raises(ArtifactMissing, match="no manifest.json"):
        read_manifest(tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ("[]", "must be a JSON object"),
        ('{"schema_version": 99}', "schema_version 99 is not supported"),
        ('{"schema_version": 1}', "missing"),
    ],
)
def test_malformed_manifest(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "manifest.json").write_text(text)
    with pytest.raises(ArtifactIntegrityError, match=message):
        read_manifest(tmp_path)


def test_wrong_field_types_are_refused(artifact_dir: Path) -> None:
    edit_manifest(artifact_dir, class_names="setosa")
    with pytest.raises(ArtifactIntegrityError, match="class_names"):
        read_manifest(artifact_dir)


def test_verify_returns_the_checked_bytes(artifact_dir: Path) -> None:
    manifest = read_manifest(artifact_dir)
    verified = verify_files(artifact_dir, manifest)
    for name, data in verified.items():
        assert sha256_bytes(data) == manifest.files[name]


def test_verify_refuses_a_changed_file(artifact_dir: Path) -> None:
    (artifact_dir / "model.joblib").write_bytes(b"not the model")
    with pytest.raises(ArtifactIntegrityError, match="model.joblib has sha256"):
        verify_files(artifact_dir, read_manifest(artifact_dir))


def test_verify_refuses_a_missing_file(artifact_dir: Path) -> None:
    (artifact_dir / "scorer.json").unlink()
    with pytest.raises(ArtifactMissing, match="scorer.json is listed in the manifest but missing"):
        verify_files(artifact_dir, read_manifest(artifact_dir))


def test_the_record_of_the_removed_linear_export_is_ignored(artifact_dir: Path) -> None:
    """Manifests written before linear.json was removed carry ``linear_export``."""
    edit_manifest(artifact_dir, linear_export={"served": True, "max_abs_diff": 1e-15})
    manifest = read_manifest(artifact_dir)
    assert manifest == read_manifest(BUNDLED)
    assert "linear_export" not in manifest.to_json()


def test_verify_refuses_paths_outside_the_folder(artifact_dir: Path) -> None:
    manifest = json.loads((artifact_dir / "manifest.json").read_text())
    edit_manifest(artifact_dir, files={**manifest["files"], "../escape": "0" * 64})
    with pytest.raises(ArtifactIntegrityError, match="not a plain file name"):
        verify_files(artifact_dir, read_manifest(artifact_dir))


def test_a_manifest_without_schema_or_task_is_all_numbers_and_probabilities() -> None:
    manifest = read_manifest(BUNDLED)
    legacy = Manifest.from_json(
        json.dumps(
            {
                k: v
                for k, v in json.loads(manifest.to_json()).items()
                if k not in ("input_schema", "task")
            }
        )
    )
    assert [f.type for f in legacy.features] == ["numeric"] * 4
    assert not any(f.nullable for f in legacy.features)
    assert legacy.prediction_task.classes == [0, 1, 2]
    assert legacy.prediction_task.scores == "predict_proba"


@pytest.mark.parametrize(
    "change",
    [
        {"input_schema": [{"name": "x", "type": "numeric"}]},
        {
            "input_schema": [
                {"name": n, "type": "date"}
                for n in ["sepal_length", "sepal_width", "petal_length", "petal_width"]
            ]
        },
        {
            "input_schema": [
                {"name": n, "type": "categorical"}
                for n in ["sepal_length", "sepal_width", "petal_length", "petal_width"]
            ]
        },
        {"task": {"type": "classification", "classes": [0, 1], "scores": "predict_proba"}},
        {"task": {"type": "regression", "output": "y"}},
        {"task": {"type": "classification", "classes": [0, 1, 2], "scores": "predict"}},
    ],
)
def test_a_schema_or_task_that_does_not_fit_is_refused(
    tmp_path: Path, change: dict[str, object]
) -> None:
    artifact = tmp_path / "a"
    artifact.mkdir()
    (artifact / "manifest.json").write_text((BUNDLED / "manifest.json").read_text())
    edit_manifest(artifact, **change)
    with pytest.raises(ArtifactIntegrityError, match="wrong type: (input_schema|task)"):
        read_manifest(artifact)


def test_a_pinned_sha256_accepts_only_that_manifest(artifact_dir: Path) -> None:
    pinned = sha256_file(artifact_dir / "manifest.json")
    assert read_manifest(artifact_dir, pinned).model_version == "1.0.0"
    edit_manifest(artifact_dir, model_version="6.6.6")
    changed = sha256_file(artifact_dir / "manifest.json")
    with pytest.raises(UntrustedArtifact, match=f"has sha256 {changed}.*pins {pinned}"):
        read_manifest(artifact_dir, pinned)


@pytest.mark.parametrize(
    ("model_type", "libraries", "framework"),
    [
        ("LogisticRegression", {}, "sklearn"),
        ("XGBClassifier", {"xgboost-cpu": "3.2.0"}, "xgboost"),
        ("Pipeline(StandardScaler, XGBRegressor)", {"xgboost": "3.2.0"}, "xgboost"),
        ("Pipeline(ColumnTransformer, LGBMClassifier)", {"lightgbm": "4.7.0"}, "lightgbm"),
        ("LGBMRegressor", {}, "sklearn"),  # a class of that name, but no lightgbm recorded
        ("Pipeline(XGBClassifier, LogisticRegression)", {"xgboost": "3.2.0"}, "sklearn"),
    ],
)
def test_framework_is_the_library_of_the_final_estimator(
    model_type: str, libraries: dict[str, str], framework: str
) -> None:
    manifest = read_manifest(BUNDLED)
    changed = replace(
        manifest, model_type=model_type, libraries={**manifest.libraries, **libraries}
    )
    assert changed.framework == framework

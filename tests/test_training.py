"""training.train: deterministic artifacts that the loader accepts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris

from irisserve import loader
from irisserve.artifact import open_artifact
from irisserve.config import Settings
from irisserve.manifest import read_manifest
from tests.support import BUNDLED
from training.train import created_at, train


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    first = tmp_path_factory.mktemp("first")
    second = tmp_path_factory.mktemp("second")
    train(first)
    train(second)
    return first, second


def test_training_twice_gives_byte_identical_files(two_runs: tuple[Path, Path]) -> None:
    first, second = two_runs
    for name in ("model.joblib", "linear.json"):
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
    export = read_manifest(two_runs[0]).linear_export
    assert export is not None
    assert export["served"] is True
    assert export["labels_equal"] is True
    assert export["max_abs_diff"] <= 1e-12


def test_bundled_artifact_predicts_like_a_fresh_training(two_runs: tuple[Path, Path]) -> None:
    rows = np.asarray(load_iris().data, dtype=np.float64)
    bundled = open_artifact(BUNDLED).predict(rows)
    fresh = open_artifact(two_runs[0]).predict(rows)
    assert np.array_equal(bundled.labels, fresh.labels)
    assert np.abs(bundled.probabilities - fresh.probabilities).max() <= 1e-9


def test_predictions_are_identical_across_loads() -> None:
    rows = np.asarray(load_iris().data, dtype=np.float64)
    first = loader.get_model(Settings()).predict(rows)
    loader.reset()
    second = loader.get_model(Settings()).predict(rows)
    assert np.array_equal(first.labels, second.labels)
    assert np.array_equal(first.probabilities, second.probabilities)


def test_metrics_come_from_the_held_out_split(two_runs: tuple[Path, Path]) -> None:
    manifest = read_manifest(two_runs[0])
    assert manifest.training_data["test_rows"] == 30
    assert manifest.metrics["split"] == "test"
    assert sum(c["support"] for c in manifest.metrics["per_class"].values()) == 30

"""training.examples: the two examples package reproducibly and serve what they fitted."""

from __future__ import annotations

from pathlib import Path

import pytest

from irisserve.artifact.folder import open_artifact
from training.examples import main


def test_passengers_is_reproducible_and_mixes_numbers_and_categories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    for folder in ("a", "b"):
        assert main(["passengers", "--output", str(tmp_path / folder)]) == 0
    for name in ("manifest.json", "model.joblib", "scorer.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    model = open_artifact(tmp_path / "a")
    assert model.backend == "fast"
    assert [f.type for f in model.features] == ["numeric"] * 3 + ["categorical"] * 2
    assert model.task.classes == ["no", "yes"]
    assert model.manifest.metrics["split"] == "test"
    assert 0.7 < model.manifest.metrics["accuracy"] <= 1.0
    row = {"age": None, "fare": 30.0, "pclass": 1, "embarked": "C", "sex": "f"}
    scores = model.predict_rows([model.schema.parse_row(row, "features")])
    assert scores.labels == [1]


def test_diabetes_is_a_regressor(tmp_path: Path) -> None:
    assert main(["diabetes", "--output", str(tmp_path)]) == 0
    model = open_artifact(tmp_path)
    assert model.task.type == "regression"
    assert model.task.output == "progression"
    assert model.feature_names[:3] == ["age", "sex", "bmi"]
    assert "r2" in model.manifest.metrics

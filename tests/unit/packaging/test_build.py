"""irisserve.packaging: what it writes, what it refuses, and the command line."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from irisserve.artifact.folder import open_artifact
from irisserve.artifact.manifest import read_manifest, sha256_file
from irisserve.packaging import write_artifact
from irisserve.packaging.build import PROBE_ROWS
from irisserve.packaging.check import Agreement
from irisserve.packaging.cli import main, served_by
from irisserve.packaging.errors import PackagingError
from tests.helpers.own_models import BUILDERS, expected_objects
from tests.helpers.support import run_ok
from training.passengers import TARGET, passengers


@pytest.fixture(scope="module")
def iris() -> tuple[pd.DataFrame, pd.Series]:
    data = load_iris(as_frame=True)
    return data.data, data.target


def test_the_manifest_holds_schema_task_and_every_sha256(tmp_path: Path) -> None:
    fitted = BUILDERS["pipeline"]()
    manifest = write_artifact(
        fitted.estimator, fitted.train, tmp_path, name="passengers", version="2.0.0", y=fitted.y
    )
    assert read_manifest(tmp_path) == manifest
    assert manifest.files == {
        name: sha256_file(tmp_path / name)
        for name in ("model.joblib", "scorer.json", "explain.npz")
    }
    assert manifest.fast_export is not None
    assert manifest.fast_export["served"]
    assert manifest.fast_export["files"] == {"scorer.json": manifest.files["scorer.json"]}
    assert manifest.fast_export["rows_checked"] == len(fitted.train) + PROBE_ROWS
    assert open_artifact(tmp_path).backend == "fast"  # served without scikit-learn
    assert manifest.model_type == "Pipeline(ColumnTransformer, LogisticRegression)"
    schema = {feature.name: feature for feature in manifest.features}
    assert list(schema) == ["age", "fare", "pclass", "embarked", "sex"]
    assert schema["age"].type == "numeric"
    assert schema["age"].nullable  # the pipeline imputes it
    assert schema["embarked"].categories == ["C", "Q", "S"]
    assert schema["embarked"].unknown == "ignore"
    assert schema["sex"].unknown == "error"
    assert not schema["sex"].nullable  # its encoder never saw a missing value
    stats = manifest.feature_statistics
    assert set(stats) == {"age", "fare", "pclass"}
    assert stats["age"].min == fitted.train["age"].min()
    assert manifest.prediction_task.classes == ["no", "yes"]
    assert manifest.prediction_task.scores == "predict_proba"
    assert manifest.class_names == ["no", "yes"]
    assert 0.5 < manifest.metrics["accuracy"] <= 1.0
    assert manifest.training_data["rows"] == len(fitted.train)


def test_a_regressor_records_its_target_range(tmp_path: Path) -> None:
    fitted = BUILDERS["ridge"]()
    manifest = write_artifact(
        fitted.estimator, fitted.train, tmp_path, name="diabetes", version="1", y=fitted.y
    )
    task = manifest.prediction_task
    assert (task.type, task.output, task.classes) == ("regression", "progression", None)
    assert task.target is not None
    assert task.target.min == fitted.y.min()
    assert manifest.class_names == []
    assert "r2" in manifest.metrics


def test_a_multinomial_logistic_regression_gets_the_fast_export(tmp_path: Path, iris: Any) -> None:
    x, y = iris
    estimator = LogisticRegression(max_iter=1000).fit(x, y)
    manifest = write_artifact(
        estimator, x, tmp_path, name="iris", version="1", class_names=["a", "b", "c"]
    )
    assert set(manifest.files) == {"model.joblib", "scorer.json", "explain.npz"}
    assert manifest.fast_export is not None
    assert manifest.fast_export["served"]
    assert "linear_export" not in (tmp_path / "manifest.json").read_text()
    assert "threads" in manifest.platform["blas"]
    model = open_artifact(tmp_path)
    assert model.backend == "fast"
    scores = model.predict_rows(x.to_numpy().tolist()[:5])
    assert scores.labels == estimator.predict(x.iloc[:5]).tolist()


def test_an_array_with_the_estimators_feature_names(tmp_path: Path, iris: Any) -> None:
    x, y = iris
    estimator = LogisticRegression(max_iter=1000).fit(x.to_numpy(), y)
    manifest = write_artifact(estimator, x.to_numpy(), tmp_path, name="m", version="1")
    assert manifest.feature_names == ["x0", "x1", "x2", "x3"]


def test_skops_is_written_and_verified(tmp_path: Path) -> None:
    fitted = BUILDERS["random_forest"]()
    manifest = write_artifact(
        fitted.estimator, fitted.train, tmp_path, name="m", version="1", skops=True
    )
    assert set(manifest.files) == {
        *("model.joblib", "model.skops", "scorer.json", "scorer.npz", "explain.npz")
    }
    assert "skops" in manifest.libraries
    assert open_artifact(tmp_path, "skops").backend == "skops"


def test_without_a_fast_export_scikit_learn_serves_and_the_manifest_says_why(
    tmp_path: Path,
) -> None:
    fitted = BUILDERS["svc"]()
    manifest = write_artifact(fitted.estimator, fitted.train, tmp_path, name="m", version="1")
    assert set(manifest.files) == {"model.joblib"}
    assert manifest.fast_export == {"served": False, "reason": "SVC has no pickle-free export"}
    assert open_artifact(tmp_path).backend == "sklearn"


class Unstable(ClassifierMixin, BaseEstimator):
    """Probabilities that depend on the batch: what packaging must refuse."""

    def fit(self, x: Any, y: Any) -> Unstable:
        self.classes_ = np.unique(y)
        self.n_features_in_ = np.asarray(x).shape[1]
        return self

    def predict(self, x: Any) -> Any:
        return self.classes_[np.zeros(len(x), dtype=int)]

    def predict_proba(self, x: Any) -> Any:
        shift = 1e-9 * len(x)
        return np.tile([0.6 + shift, 0.4 - shift], (len(x), 1))


def test_answers_that_differ_are_refused_saying_by_how_much(tmp_path: Path, iris: Any) -> None:
    x, y = iris
    with pytest.raises(PackagingError, match=r"scores differ by up to [0-9.e-]+ of their scale"):
        write_artifact(Unstable().fit(x, y), x, tmp_path / "out", name="m", version="1")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("estimator", "message"),
    [
        (object(), "object has no predict method"),
        (LogisticRegression(), "LogisticRegression is not fitted"),
    ],
)
def test_what_cannot_be_served_is_refused(
    tmp_path: Path, iris: Any, estimator: Any, message: str
) -> None:
    with pytest.raises(PackagingError, match=message):
        write_artifact(estimator, iris[0], tmp_path, name="m", version="1")


def test_the_command_packages_a_joblib_file_and_a_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fitted = BUILDERS["pipeline"]()
    joblib.dump(fitted.estimator, tmp_path / "passengers.joblib")
    fitted.train.assign(**{TARGET: fitted.y}).to_csv(tmp_path / "train.csv", index=False)
    argv = [str(tmp_path / "passengers.joblib"), "--data", str(tmp_path / "train.csv")]
    argv += ["--target", TARGET, "--output", str(tmp_path / "artifact"), "--version", "3.1.0"]
    assert main(argv) == 0  # python -m irisserve.packaging ARGV
    assert "wrote" in capsys.readouterr().err
    manifest = json.loads((tmp_path / "artifact" / "manifest.json").read_text())
    assert manifest["model_name"] == "passengers"
    assert manifest["model_version"] == "3.1.0"
    assert manifest["feature_names"] == list(fitted.train.columns)
    model = open_artifact(tmp_path / "artifact")
    rows = [
        model.schema.parse_row(row, "row")
        for row in json.loads(fitted.test.head(5).to_json(orient="records"))
    ]
    expected = expected_objects(fitted.estimator, fitted.test.head(5))
    assert [model.task.classes[i] for i in model.predict_rows(rows).labels or []] == [
        e["prediction"] for e in expected
    ]


@pytest.mark.parametrize(
    ("model", "target", "message"),
    [
        ({"not": "a model"}, None, "error: dict has no predict method"),
        (None, "nope", "has no column 'nope'"),
    ],
)
def test_the_command_says_what_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], model: Any, target: str | None, message: str
) -> None:
    x, y = passengers(rows=50)
    x.assign(**{TARGET: y}).to_csv(tmp_path / "train.csv", index=False)
    joblib.dump(model, tmp_path / "model.joblib")
    argv = [str(tmp_path / "model.joblib"), "--data", str(tmp_path / "train.csv")]
    argv += ["--output", str(tmp_path / "out"), *(["--target", target] if target else [])]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_the_module_runs_as_a_command() -> None:
    assert "--skops" in run_ok([sys.executable, "-m", "irisserve.packaging", "--help"])


def test_the_last_line_says_why_the_fast_path_was_refused(tmp_path: Path) -> None:
    fitted = BUILDERS["logistic_binary"]()
    manifest = write_artifact(fitted.estimator, fitted.train, tmp_path, name="m", version="1")
    assert served_by(manifest) == "served by: fast (scorer.json), pickle-free, without scikit-learn"
    missed = Agreement(
        rows_checked=9, labels_equal=True, max_difference=3.02e-12, batch_invariant=True
    )
    pickled = replace(
        manifest,
        files={"model.joblib": manifest.files["model.joblib"]},
        fast_export={"served": False, **missed.as_manifest()},
    )
    assert served_by(pickled) == (
        "served by: sklearn (model.joblib); not the fast path: its scores differ from "
        "scikit-learn's by 3.02e-12 of their scale, more than 1e-12"
    )
    with_skops = replace(pickled, files={**pickled.files, "model.skops": "0" * 64})
    assert served_by(with_skops).startswith("served by: skops (model.skops); not the fast path: ")

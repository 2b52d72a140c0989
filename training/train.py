"""Fit the Iris LogisticRegression reproducibly and write its artifact folder.

    python -m training.train --output build/iris --compare src/irisserve/artifacts/iris

Writes ``model.joblib`` (the canonical scikit-learn artifact), ``linear.json``
(the pickle-free export irisserve serves from, verified here against
``predict_proba``) and ``manifest.json`` (through ``irisserve.artifact.manifest``).
``SOURCE_DATE_EPOCH`` fixes the manifest's creation time. ``--skops`` also writes
``model.skops``, which loads without unpickling (``IRISSERVE_SCORER=skops``); skops
names its arrays by object id, so that one file is not byte-reproducible.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import numpy.typing as npt
import sklearn
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, precision_recall_fscore_support
from sklearn.model_selection import train_test_split

from irisserve.artifact.folder import JOBLIB_NAME
from irisserve.artifact.manifest import (
    SCHEMA_VERSION,
    FeatureStatistics,
    Manifest,
    sha256_bytes,
    sha256_file,
    write_manifest,
)
from irisserve.artifact.skops import SKOPS_NAME, dumps
from irisserve.scorers._multinomial import LINEAR_NAME, LinearScorer
from training.compare import MACHINE_FIELDS, MEASURED_FIELDS, artifact_differences
from training.environment import blas_description, with_interned_names
from training.exact_logistic import fit_at_optimum

FEATURE_NAMES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
DEFAULT_SEED = 42
DEFAULT_VERSION = "1.0.0"
TEST_SIZE = 0.2
HYPERPARAMETERS: dict[str, Any] = {"C": 1.0, "solver": "lbfgs", "max_iter": 1000, "tol": 1e-4}
#: The largest |difference| from predict_proba that still lets linear.json be served.
LINEAR_TOLERANCE = 1e-12


def created_at() -> str:
    """Now in UTC, or ``SOURCE_DATE_EPOCH`` when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def dataset_sha256(features: npt.NDArray[Any], target: npt.NDArray[Any]) -> str:
    """A hash of the exact training data (float64 features, int64 labels, C order)."""
    data = np.ascontiguousarray(features, dtype=np.float64).tobytes()
    labels = np.ascontiguousarray(target, dtype=np.int64).tobytes()
    return sha256_bytes(data + labels)


def feature_statistics(train_rows: npt.NDArray[np.float64]) -> dict[str, FeatureStatistics]:
    """Per-feature min, max, mean and (population) std of the training split."""
    return {
        name: FeatureStatistics(
            min=float(column.min()),
            max=float(column.max()),
            mean=float(column.mean()),
            std=float(column.std()),
        )
        for name, column in zip(FEATURE_NAMES, train_rows.T, strict=True)
    }


def linear_agreement(
    estimator: LogisticRegression, scorer: LinearScorer, rows: npt.NDArray[np.float64]
) -> dict[str, Any]:
    """How closely the numpy export reproduces scikit-learn on ``rows``."""
    labels, probabilities = scorer.score(rows)
    return {
        "rows_checked": len(rows),
        "max_abs_diff": float(np.abs(probabilities - estimator.predict_proba(rows)).max()),
        "labels_equal": bool(np.array_equal(labels, estimator.predict(rows))),
    }


def probe_rows(train_rows: npt.NDArray[np.float64], seed: int) -> npt.NDArray[np.float64]:
    """Random rows spanning twice the training range, for checking the export."""
    rng = np.random.default_rng(seed)
    low, high = train_rows.min(axis=0), train_rows.max(axis=0)
    span = high - low
    return rng.uniform(low - span, high + span, size=(2000, train_rows.shape[1]))


def train(
    output: Path,
    seed: int = DEFAULT_SEED,
    model_version: str = DEFAULT_VERSION,
    skops: bool = False,
) -> Manifest:
    """Fit, evaluate and write the artifact folder; return its manifest."""
    iris = load_iris()
    features = np.asarray(iris.data, dtype=np.float64)
    target = np.asarray(iris.target, dtype=np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        features, target, test_size=TEST_SIZE, stratify=target, random_state=seed
    )
    estimator = fit_at_optimum(
        LogisticRegression(random_state=seed, **HYPERPARAMETERS), x_train, y_train
    )

    predicted = estimator.predict(x_test)
    precision, recall, _, support = precision_recall_fscore_support(
        y_test, predicted, zero_division=0
    )
    class_names = [str(name) for name in iris.target_names]
    metrics = {
        "split": "test",
        "accuracy": float(accuracy_score(y_test, predicted)),
        "per_class": {
            name: {"precision": float(p), "recall": float(r), "support": int(s)}
            for name, p, r, s in zip(class_names, precision, recall, support, strict=True)
        },
    }

    scorer = LinearScorer.from_estimator(estimator)
    checked = np.vstack([x_train, x_test, probe_rows(x_train, seed)])
    agreement = linear_agreement(estimator, scorer, checked)

    output.mkdir(parents=True, exist_ok=True)
    joblib.dump(with_interned_names(estimator), output / JOBLIB_NAME)
    files = {JOBLIB_NAME: sha256_file(output / JOBLIB_NAME)}
    if skops:
        (output / SKOPS_NAME).write_bytes(dumps(estimator))
        files[SKOPS_NAME] = sha256_file(output / SKOPS_NAME)
    linear_path = output / LINEAR_NAME
    if agreement["labels_equal"] and agreement["max_abs_diff"] <= LINEAR_TOLERANCE:
        linear_path.write_text(scorer.to_json(), encoding="utf-8")
        files[LINEAR_NAME] = sha256_file(linear_path)
    else:  # serve through joblib rather than from an export that disagrees
        linear_path.unlink(missing_ok=True)

    manifest = Manifest(
        schema_version=SCHEMA_VERSION,
        model_name="iris",
        model_version=model_version,
        model_type=type(estimator).__name__,
        created_at=created_at(),
        files=files,
        platform={
            "system": platform.system(),
            "machine": platform.machine(),
            "python_implementation": platform.python_implementation(),
            "blas": blas_description(),
        },
        libraries={
            "python": platform.python_version(),
            "scikit-learn": sklearn.__version__,
            "numpy": np.__version__,
            "joblib": joblib.__version__,
        },
        training_data={
            "name": "iris (scikit-learn load_iris)",
            "sha256": dataset_sha256(features, target),
            "rows": len(features),
            "train_rows": len(x_train),
            "test_rows": len(x_test),
            "test_size": TEST_SIZE,
            "stratified": True,
        },
        hyperparameters=dict(HYPERPARAMETERS),
        random_seed=seed,
        metrics=metrics,
        feature_names=list(FEATURE_NAMES),
        class_names=class_names,
        feature_statistics=feature_statistics(x_train),
        linear_export={**agreement, "tolerance": LINEAR_TOLERANCE, "served": LINEAR_NAME in files},
    )
    write_manifest(output, manifest)
    return manifest


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, required=True, help="artifact folder to write")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--model-version", default=DEFAULT_VERSION)
    parser.add_argument("--skops", action="store_true", help="also write model.skops")
    parser.add_argument(
        "--compare",
        type=Path,
        help="an artifact folder the result must reproduce (exit 1 naming what differs)",
    )
    args = parser.parse_args(argv)
    manifest = train(args.output, args.seed, args.model_version, args.skops)
    print(
        f"wrote {args.output}: accuracy {manifest.metrics['accuracy']:.4f}, "
        f"files {sorted(manifest.files)}",
        file=sys.stderr,
    )
    if args.compare is None or args.compare.resolve() == args.output.resolve():
        return 0
    differences = artifact_differences(args.output, args.compare)
    if differences:
        print(f"NOT identical to {args.compare}: {'; '.join(differences)}", file=sys.stderr)
        return 1
    ignored = ", ".join([*MACHINE_FIELDS, *sorted(MEASURED_FIELDS)])
    print(f"identical to {args.compare} (but for {ignored})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

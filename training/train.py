"""Fit the Iris LogisticRegression reproducibly and package it with ``irisserve.packaging``.

    python -m training.train --output build/iris --compare src/irisserve/artifacts/iris

``irisserve.packaging.write_artifact`` writes ``model.joblib`` (the canonical scikit-learn
artifact), ``scorer.json`` (the pickle-free export irisserve serves from, checked against
scikit-learn first) and ``manifest.json``, which also records the held-out metrics, the
training data's hash, the hyperparameters and the seed. ``SOURCE_DATE_EPOCH`` fixes the
manifest's creation time. ``--skops`` also writes ``model.skops``, which loads without
unpickling (``IRISSERVE_SCORER=skops``); skops names its arrays by object id, so that
one file is not byte-reproducible.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, precision_recall_fscore_support
from sklearn.model_selection import train_test_split

from irisserve.artifact.manifest import Manifest, sha256_bytes
from irisserve.packaging import write_artifact
from training.compare import MACHINE_FIELDS, MEASURED_FIELDS, artifact_differences
from training.exact_logistic import fit_at_optimum

FEATURE_NAMES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
DEFAULT_SEED = 42
DEFAULT_VERSION = "1.0.0"
TEST_SIZE = 0.2
HYPERPARAMETERS: dict[str, Any] = {"C": 1.0, "solver": "lbfgs", "max_iter": 1000, "tol": 1e-4}


def dataset_sha256(features: npt.NDArray[Any], target: npt.NDArray[Any]) -> str:
    """A hash of the exact training data (float64 features, int64 labels, C order)."""
    data = np.ascontiguousarray(features, dtype=np.float64).tobytes()
    labels = np.ascontiguousarray(target, dtype=np.int64).tobytes()
    return sha256_bytes(data + labels)


def test_metrics(
    y_test: npt.NDArray[Any], predicted: npt.NDArray[Any], class_names: list[str]
) -> dict[str, Any]:
    """Accuracy, and precision, recall and support per class, on the held-out split."""
    precision, recall, _, support = precision_recall_fscore_support(
        y_test, predicted, zero_division=0
    )
    return {
        "split": "test",
        "accuracy": float(accuracy_score(y_test, predicted)),
        "per_class": {
            name: {"precision": float(p), "recall": float(r), "support": int(s)}
            for name, p, r, s in zip(class_names, precision, recall, support, strict=True)
        },
    }


def train(
    output: Path,
    seed: int = DEFAULT_SEED,
    model_version: str = DEFAULT_VERSION,
    skops: bool = False,
) -> Manifest:
    """Fit, evaluate and package the artifact folder; return its manifest."""
    iris = load_iris()
    features = np.asarray(iris.data, dtype=np.float64)
    target = np.asarray(iris.target, dtype=np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        features, target, test_size=TEST_SIZE, stratify=target, random_state=seed
    )
    estimator = fit_at_optimum(
        LogisticRegression(random_state=seed, **HYPERPARAMETERS), x_train, y_train
    )
    class_names = [str(name) for name in iris.target_names]
    return write_artifact(
        estimator,
        pd.DataFrame(x_train, columns=FEATURE_NAMES),
        output,
        name="iris",
        version=model_version,
        skops=skops,
        class_names=class_names,
        metrics=test_metrics(y_test, estimator.predict(x_test), class_names),
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
    )


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

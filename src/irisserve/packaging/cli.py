"""Package a fitted scikit-learn estimator or pipeline as an artifact folder irisserve serves.

    python -m irisserve.packaging MODEL --data TRAIN.csv [--target COLUMN] --output DIR \\
        [--name NAME] [--version VERSION] [--skops]

``MODEL`` is a joblib file of a fitted estimator or ``Pipeline``, or a saved booster: an
XGBoost JSON or UBJSON model, a LightGBM text model (``irisserve.packaging.boosterfile``,
recognised by its first bytes). ``TRAIN.csv`` holds the rows it was trained on, with a
header (the ``--target`` column is dropped from the inputs and used for metrics; a
booster file without feature names takes the CSV's, in its order).
The Python API is ``irisserve.packaging.write_artifact``.

The folder holds ``model.joblib`` (and ``model.skops`` with ``--skops``), the pickle-free
export (``scorer.json``, and ``scorer.npz`` for trees) where it answers exactly, and
``manifest.json`` with every sha256, the library versions, the input schema and the task.
Before anything is written to ``DIR``, the folder is loaded back through the serving code
and must answer what the estimator answers on the training rows (labels equal, scores
within 1e-12 of their scale, ``irisserve.packaging.tolerance``); otherwise nothing is
written and the error says by how much they differ. The last line says which backend
will serve the folder and, if not the fast path, why not.
Needs pandas (``irisserve[package]``); serving never does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from irisserve.artifact.folder import BACKEND_FILES, auto_backend
from irisserve.artifact.manifest import Manifest
from irisserve.packaging import boosterfile
from irisserve.packaging.build import write_artifact
from irisserve.packaging.errors import PackagingError

__all__ = ["main", "served_by"]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m irisserve.packaging", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument(
        "model",
        type=Path,
        help="joblib file of a fitted estimator or Pipeline, or an XGBoost (JSON, UBJSON) "
        "or LightGBM (text) model file",
    )
    parser.add_argument(
        "--data", type=Path, required=True, help="CSV of the training rows, with a header"
    )
    parser.add_argument("--target", help="the CSV's target column (dropped from the inputs)")
    parser.add_argument("--output", type=Path, required=True, help="artifact folder to write")
    parser.add_argument("--name", help="model name (default: MODEL's file name)")
    parser.add_argument("--version", default="1.0.0", help="model version (default: 1.0.0)")
    parser.add_argument("--skops", action="store_true", help="also write model.skops")
    args = parser.parse_args(argv)
    import joblib
    import pandas as pd

    try:
        estimator = (
            boosterfile.load(args.model)
            if boosterfile.kind(args.model)
            else joblib.load(args.model)
        )
        data = pd.read_csv(args.data)
        if args.target is not None and args.target not in data.columns:
            raise PackagingError(f"{args.data} has no column {args.target!r}")
        y = data.pop(args.target) if args.target else None
        manifest = write_artifact(
            estimator,
            data,
            args.output,
            name=args.name or args.model.stem,
            version=args.version,
            y=y,
            skops=args.skops,
        )
    except (PackagingError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    task = manifest.prediction_task
    print(
        f"wrote {args.output}: {manifest.model_type}, {task.type}, "
        f"{len(manifest.feature_names)} features, files {sorted(manifest.files)}",
        file=sys.stderr,
    )
    print(served_by(manifest), file=sys.stderr)
    return 0


def served_by(manifest: Manifest) -> str:
    """One line: the backend ``auto`` will serve the artifact with and, if not the fast
    path, why the fast export was refused (the manifest's ``fast_export`` reason)."""
    backend = auto_backend(manifest)
    line = f"served by: {backend} ({BACKEND_FILES[backend]})"
    if backend == "fast":
        return f"{line}, pickle-free, without scikit-learn"
    reason = (manifest.fast_export or {}).get("reason") or "no fast export was made"
    return f"{line}; not the fast path: {reason}"

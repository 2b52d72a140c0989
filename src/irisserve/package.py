"""Package a fitted scikit-learn estimator or pipeline as an artifact folder irisserve serves.

    python -m irisserve.package MODEL --data TRAIN.csv [--target COLUMN] --output DIR \\
        [--name NAME] [--version VERSION] [--skops]

``MODEL`` is a joblib file of a fitted estimator or ``Pipeline``; ``TRAIN.csv`` holds the
rows it was trained on, with a header (the ``--target`` column is dropped from the inputs
and used for metrics). The Python API is :func:`write_artifact`.

The folder holds ``model.joblib`` (and ``model.skops`` with ``--skops``), ``linear.json``
where a multinomial ``LogisticRegression`` exports exactly, and ``manifest.json`` with
every sha256, the library versions, the input schema and the task. Before anything is
written to ``DIR``, the folder is loaded back through the serving code and must answer
what the estimator answers on the training rows (labels equal, scores within 1e-12
relative); otherwise nothing is written and the error says by how much they differ.
Needs pandas (``irisserve[package]``); serving never does.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from irisserve import describe, skopsfile
from irisserve.artifact import BACKEND_FILES, FAST_FILES, JOBLIB_NAME, open_artifact
from irisserve.describe import PackagingError
from irisserve.errors import InvalidInput
from irisserve.linear import LINEAR_NAME, LinearScorer
from irisserve.manifest import (
    CLASSIFICATION,
    MANIFEST_NAME,
    NUMERIC,
    SCHEMA_VERSION,
    Feature,
    Manifest,
    Task,
    sha256_bytes,
    write_manifest,
)
from irisserve.model import Cell, Model, Scores
from irisserve.positional import positional

__all__ = ["PROBE_ROWS", "TOLERANCE", "PackagingError", "agreement", "main", "write_artifact"]

#: The largest relative difference from the estimator's scores a served answer may have.
TOLERANCE = 1e-12
#: Rows also scored one at a time, to check that a row's answer does not depend on its batch.
SINGLE_ROWS = 32
#: Random rows beyond the training range that also check a linear or fast export.
PROBE_ROWS = 10_000


def created_at() -> str:
    """Now in UTC, or ``SOURCE_DATE_EPOCH`` when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _expected(estimator: Any, data: Any, target: Task) -> Scores:
    """What the estimator itself answers on the training DataFrame."""
    import numpy as np

    predicted = estimator.predict(data)
    if target.type != CLASSIFICATION:
        return Scores(values=np.asarray(predicted, dtype=np.float64).tolist())
    labels = np.searchsorted(estimator.classes_, predicted).tolist()
    if target.scores is None:
        return Scores(labels=labels)
    scores = np.asarray(getattr(estimator, target.scores)(data), dtype=np.float64)
    column = scores.reshape(len(data), -1).tolist()
    if target.scores == "predict_proba":
        return Scores(labels=labels, probabilities=column)
    return Scores(labels=labels, decision=column)


def agreement(expected: Scores, served: Scores) -> dict[str, Any]:
    """How far ``served`` is from ``expected``: label mismatches, largest relative difference."""
    import numpy as np

    mismatched = [
        i
        for i, (a, b) in enumerate(zip(expected.labels or [], served.labels or [], strict=True))
        if a != b
    ]
    worst = 0.0
    for name in ("probabilities", "decision", "values"):
        want, got = getattr(expected, name), getattr(served, name)
        if (want is None) != (got is None):
            raise PackagingError(f"the served model answers {name} where the estimator does not")
        if want is None:
            continue
        a, b = np.asarray(want, dtype=np.float64), np.asarray(got, dtype=np.float64)
        if a.shape != b.shape:
            raise PackagingError(f"served {name} have shape {b.shape}, expected {a.shape}")
        scale = np.maximum(np.abs(a), np.abs(b))
        with np.errstate(invalid="ignore", divide="ignore"):
            relative = np.where(a == b, 0.0, np.abs(a - b) / scale)
        worst = max(worst, float(np.nan_to_num(relative, nan=np.inf).max(initial=0.0)))
    return {
        "rows_checked": len(expected),
        "labels_mismatched": len(mismatched),
        "first_mismatch": mismatched[0] if mismatched else None,
        "max_relative_diff": worst,
    }


def _refuse_disagreement(found: dict[str, Any], what: str) -> None:
    problems = []
    if found["labels_mismatched"]:
        problems.append(
            f"labels differ on {found['labels_mismatched']} of {found['rows_checked']} rows "
            f"(first: row {found['first_mismatch']})"
        )
    if found["max_relative_diff"] > TOLERANCE:
        problems.append(
            f"scores differ by up to {found['max_relative_diff']:.3g} relative "
            f"(tolerance {TOLERANCE:g})"
        )
    if problems:
        raise PackagingError(
            f"{what} does not answer what the estimator answers: " + "; ".join(problems)
        )


def _served(model: Model, rows: list[list[Cell]]) -> Scores:
    """The rows scored as validation hands them over: lists, and for an all-numeric schema
    a float64 array too; a few of them also one at a time. Every form must agree."""
    import numpy as np

    scored = model.predict_rows(rows)
    forms = {}
    if model.schema.all_numeric:
        nan = float("nan")
        array = np.array([[nan if v is None else v for v in row] for row in rows], np.float64)
        forms["as a float64 array"] = (scored, model.predict_rows(array))
    for i, row in enumerate(rows[:SINGLE_ROWS]):
        forms[f"row {i} alone"] = (_take(scored, i), model.predict_rows([row]))
    for what, (batch, other) in forms.items():
        _refuse_disagreement(agreement(batch, other), f"the served model, {what},")
    return scored


def _take(scores: Scores, i: int) -> Scores:
    """Row ``i`` of ``scores``, as a batch of one."""
    return Scores(
        **{
            name: None if column is None else column[i : i + 1]
            for name, column in vars(scores).items()
        }
    )


def _verify(folder: Path, expected: Scores, rows: list[list[Cell]], backends: list[str]) -> None:
    for backend in backends:
        model = open_artifact(folder, backend)
        try:
            parsed = [
                model.schema.parse_row(row, f"training row {i}") for i, row in enumerate(rows)
            ]
        except InvalidInput as exc:
            raise PackagingError(f"the input schema refuses a training row: {exc}") from exc
        _refuse_disagreement(agreement(expected, _served(model, parsed)), f"the {backend} scorer")


def _linear_export(
    estimator: Any, data: Any, schema: list[Feature], target: Task, seed: int
) -> tuple[LinearScorer | None, dict[str, Any] | None]:
    """A pickle-free export of a multinomial ``LogisticRegression`` on plain numbers, checked
    on the training rows and random rows spanning twice their range."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    if type(estimator) is not LogisticRegression or target.scores != "predict_proba":
        return None, None
    if any(f.type != NUMERIC or f.nullable for f in schema) or len(target.classes or []) < 3:
        return None, None
    if list(target.classes or []) != list(range(len(target.classes or []))):
        return None, None
    scorer = LinearScorer.from_estimator(estimator)
    train = data.to_numpy(dtype=np.float64)
    low, high = train.min(axis=0), train.max(axis=0)
    probe = np.random.default_rng(seed).uniform(
        low - (high - low), high + (high - low), size=(PROBE_ROWS, train.shape[1])
    )
    rows = np.vstack([train, probe])
    labels, probabilities = scorer.score(rows)
    found = {
        "rows_checked": len(rows),
        "max_abs_diff": float(np.abs(probabilities - estimator.predict_proba(rows)).max()),
        "labels_equal": bool(np.array_equal(labels, estimator.predict(rows))),
        "tolerance": TOLERANCE,
    }
    served = found["labels_equal"] and found["max_abs_diff"] <= TOLERANCE
    return (scorer if served else None), {**found, "served": served}


def _metrics(estimator: Any, data: Any, y: Any, target: Task) -> dict[str, Any]:
    if y is None:
        return {}
    from sklearn import metrics

    predicted = estimator.predict(data)
    if target.type == CLASSIFICATION:
        return {"split": "train", "accuracy": float(metrics.accuracy_score(y, predicted))}
    return {
        "split": "train",
        "r2": float(metrics.r2_score(y, predicted)),
        "mae": float(metrics.mean_absolute_error(y, predicted)),
    }


def _hyperparameters(estimator: Any) -> dict[str, Any]:
    params = estimator.get_params(deep=False)
    return {
        k: v for k, v in sorted(params.items()) if v is None or type(v) in (bool, int, float, str)
    }


def _libraries(skops: bool) -> dict[str, str]:
    import joblib
    import numpy as np
    import sklearn

    libraries = {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "joblib": joblib.__version__,
    }
    if skops:
        from importlib.metadata import version

        libraries["skops"] = version("skops")
    return libraries


def _model_type(estimator: Any) -> str:
    steps = getattr(estimator, "steps", None)
    if steps:
        return f"Pipeline({', '.join(type(step).__name__ for _, step in steps)})"
    return type(estimator).__name__


def _files(estimator: Any, linear: LinearScorer | None, skops: bool) -> dict[str, bytes]:
    import io

    import joblib

    buffer = io.BytesIO()
    joblib.dump(estimator, buffer)
    files = {JOBLIB_NAME: buffer.getvalue()}
    if skops:
        files[skopsfile.SKOPS_NAME] = skopsfile.dumps(estimator)
    if linear is not None:
        files[LINEAR_NAME] = linear.to_json().encode()
    return files


def write_artifact(
    estimator: Any,
    x: Any,
    output: Path | str,
    *,
    name: str,
    version: str,
    y: Any = None,
    skops: bool = False,
    class_names: list[str] | None = None,
    output_name: str | None = None,
    metrics: dict[str, Any] | None = None,
    training_data: dict[str, Any] | None = None,
    hyperparameters: dict[str, Any] | None = None,
    random_seed: int | None = None,
) -> Manifest:
    """Write the artifact folder of a fitted ``estimator`` trained on ``x``; return its manifest.

    ``x`` is a pandas DataFrame or a 2-D array (its columns named by the estimator's
    ``feature_names_in_``, else ``x0``, ``x1``...); ``y``, when given, gives the metrics
    (unless ``metrics`` does) and a regressor's target range. ``class_names`` names the
    classes (default: ``str`` of each); ``output_name`` names a regressor's output (default:
    ``y``'s name). The rest overrides what the manifest records about training.
    Raises ``PackagingError`` when the estimator cannot be packaged or served exactly.
    """
    describe.check_estimator(estimator)
    data = describe.frame(estimator, x)
    # What the estimator was fitted on (a DataFrame or an array) gives its own answers.
    fitted_on = data if hasattr(estimator, "feature_names_in_") else data.to_numpy()
    original, estimator = estimator, positional(estimator)
    kinds = describe.features(data)
    output_name = output_name or str(getattr(y, "name", None) or "prediction")
    target = describe.task(estimator, output_name, y)
    rows = describe.cells(data, kinds)
    schema = describe.probe(estimator, kinds, target, rows)
    seed = _seed(estimator, random_seed)
    linear, linear_found = _linear_export(estimator, data, schema, target, seed or 0)
    files = _files(estimator, linear, skops)
    expected = _expected(original, fitted_on, target)
    manifest = Manifest(
        schema_version=SCHEMA_VERSION,
        model_name=name,
        model_version=version,
        model_type=_model_type(estimator),
        created_at=created_at(),
        files={file: sha256_bytes(content) for file, content in files.items()},
        platform={
            "system": platform.system(),
            "machine": platform.machine(),
            "python_implementation": platform.python_implementation(),
        },
        libraries=_libraries(skops),
        training_data=training_data or _training_data(data, y),
        hyperparameters=_hyperparameters(estimator) if hyperparameters is None else hyperparameters,
        random_seed=seed,
        metrics=_metrics(original, fitted_on, y, target) if metrics is None else metrics,
        feature_names=[f.name for f in schema],
        class_names=_class_names(target, class_names),
        feature_statistics=describe.statistics(data, schema),
        linear_export=linear_found,
        input_schema=schema,
        task=target,
    )
    if linear is None:  # the specialised linear export, when exact, needs no other
        from irisserve.scorers.check import checked_export, random_rows

        # The training rows, and random rows spanning them (unseen categories where the
        # estimator scores them, missing values where training had them).
        unseen = frozenset(i for i, f in enumerate(schema) if f.unknown == "ignore")
        probes = random_rows(rows, PROBE_ROWS, seed or 0, unseen)
        fast, fast_found = checked_export(estimator, rows + probes)
        files |= fast
        hashes = {file: sha256_bytes(content) for file, content in files.items()}
        manifest = replace(manifest, files=hashes, fast_export=fast_found)
    # Every backend whose file the folder holds is verified before the folder is written.
    backends = [b for b, wanted in BACKEND_FILES.items() if wanted in files]
    _write_verified(
        Path(output), files, manifest, lambda folder: _verify(folder, expected, rows, backends)
    )
    return manifest


def _seed(estimator: Any, given: int | None) -> int | None:
    seed = given if given is not None else estimator.get_params().get("random_state")
    return seed if isinstance(seed, int) else None


def _class_names(target: Task, given: list[str] | None) -> list[str]:
    if target.type != CLASSIFICATION:
        return []
    classes = target.classes or []
    names = given or [str(c) for c in classes]
    if len(names) != len(classes):
        raise PackagingError(f"class_names has {len(names)} names for {len(classes)} classes")
    return names


def _training_data(data: Any, y: Any) -> dict[str, Any]:
    import numpy as np

    labels = b"" if y is None else np.asarray(y).astype(str).tobytes()
    return {"rows": len(data), "sha256": sha256_bytes(data.to_csv(index=False).encode() + labels)}


def _write_verified(
    output: Path, files: dict[str, bytes], manifest: Manifest, verify: Callable[[Path], None]
) -> None:
    """Write the folder in a scratch place, ``verify`` it, and only then copy it to ``output``."""
    with tempfile.TemporaryDirectory(prefix=".irisserve-package-") as scratch:
        folder = Path(scratch)
        for file, content in files.items():
            (folder / file).write_bytes(content)
        write_manifest(folder, manifest)
        verify(folder)
        output.mkdir(parents=True, exist_ok=True)
        for file in [*files, MANIFEST_NAME]:
            shutil.copyfile(folder / file, output / file)
    for stale in {JOBLIB_NAME, LINEAR_NAME, skopsfile.SKOPS_NAME, *FAST_FILES} - set(files):
        (output / stale).unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m irisserve.package", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("model", type=Path, help="joblib file of a fitted estimator or Pipeline")
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
        estimator = joblib.load(args.model)
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

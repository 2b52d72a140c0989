"""Build an artifact folder from a fitted scikit-learn estimator or pipeline: ``write_artifact``.

The folder holds ``model.joblib`` (and ``model.skops`` with ``skops=True``), the pickle-free
export (``irisserve.scorers``: ``scorer.json``, and ``scorer.npz`` for trees) where it answers
exactly, with what explaining it needs (``explain.npz``: ``irisserve.explain.export``), and
``manifest.json`` with every sha256, the library versions, the input schema and the task.
Before anything is written to the output folder, the folder is loaded back through the
serving code and must answer what the estimator answers (``irisserve.packaging.verify``);
otherwise nothing is written and the error says by how much they differ. Needs pandas
(``irisserve[package]``); serving never does.
"""

from __future__ import annotations

import math
import os
import platform
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from irisserve.artifact.folder import BACKEND_FILES, FAST_FILES, JOBLIB_NAME
from irisserve.artifact.manifest import (
    CLASSIFICATION,
    MANIFEST_NAME,
    SCHEMA_VERSION,
    Manifest,
    Task,
    sha256_bytes,
    write_manifest,
)
from irisserve.artifact.skops import SKOPS_NAME, dumps
from irisserve.explain.export import EXPLAIN_NAME, explain_file
from irisserve.packaging import inputs, supported, text
from irisserve.packaging._positional import positional
from irisserve.packaging.check import checked_export, random_rows
from irisserve.packaging.environment import blas_description, with_interned_names
from irisserve.packaging.errors import PackagingError
from irisserve.packaging.libraries import libraries
from irisserve.packaging.metrics import training_metrics
from irisserve.packaging.tolerance import magnitudes
from irisserve.packaging.verify import expected_scores, verify_backends

__all__ = ["PROBE_ROWS", "created_at", "write_artifact"]

#: Random rows beyond the training range that also check the fast export.
PROBE_ROWS = 10_000


def created_at() -> str:
    """Now in UTC, or ``SOURCE_DATE_EPOCH`` when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _hyperparameters(estimator: Any) -> dict[str, Any]:
    """The plain JSON parameters (an XGBoost model's ``missing=nan`` is no JSON number)."""
    params = estimator.get_params(deep=False)
    return {
        k: v
        for k, v in sorted(params.items())
        if v is None or type(v) in (bool, int, str) or (type(v) is float and math.isfinite(v))
    }


def _model_type(estimator: Any) -> str:
    steps = getattr(estimator, "steps", None)
    if steps:
        return f"Pipeline({', '.join(type(step).__name__ for _, step in steps)})"
    return type(estimator).__name__


def _files(estimator: Any, skops: bool) -> dict[str, bytes]:
    import io

    import joblib

    buffer = io.BytesIO()
    joblib.dump(with_interned_names(estimator), buffer)
    files = {JOBLIB_NAME: buffer.getvalue()}
    if skops:
        files[SKOPS_NAME] = dumps(estimator)
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
    ``feature_names_in_``, else ``x0``, ``x1``...), or for a model that takes one text per
    row its texts (served as one column, ``text``: ``irisserve.packaging.text``); ``y``,
    when given, gives the metrics (unless ``metrics`` does) and a regressor's target range.
    ``class_names`` names the classes (default: ``str`` of each); ``output_name`` names a
    regressor's output (default: ``y``'s name). The rest overrides what the manifest
    records about training.
    Raises ``PackagingError`` when the estimator cannot be packaged or served exactly.
    """
    inputs.check_estimator(estimator)
    model_type = _model_type(estimator)
    estimator, x = text.one_column(estimator, x)
    data = inputs.frame(estimator, x)
    texts = frozenset(text.text_columns(estimator, list(data.columns)))
    # What the estimator was fitted on (a DataFrame or an array) gives its own answers.
    fitted_on = data if hasattr(estimator, "feature_names_in_") else data.to_numpy()
    supported.check_outputs(estimator, fitted_on)
    original, estimator = estimator, positional(estimator)
    kinds = inputs.features(data, texts)
    output_name = output_name or str(getattr(y, "name", None) or "prediction")
    target = inputs.task(estimator, output_name, y)
    rows = inputs.cells(data, kinds)
    schema = inputs.probe(estimator, kinds, target, rows)
    seed = _seed(estimator, random_seed)
    files = _files(estimator, skops)
    expected = expected_scores(original, fitted_on, target)
    # The training rows, and random rows spanning them (unseen categories where the
    # estimator scores them, missing values where training had them).
    unseen = frozenset(i for i, f in enumerate(schema) if f.unknown == "ignore")
    probes = random_rows(rows, PROBE_ROWS, seed or 0, unseen)
    fast, fast_found = checked_export(estimator, rows + probes)
    files |= fast
    if fast:  # what explanations need beside the fast export, read on the first explain
        files[EXPLAIN_NAME] = explain_file(estimator, fast, rows)
    manifest = Manifest(
        schema_version=SCHEMA_VERSION,
        model_name=name,
        model_version=version,
        model_type=model_type,
        created_at=created_at(),
        files={file: sha256_bytes(content) for file, content in files.items()},
        platform={
            "system": platform.system(),
            "machine": platform.machine(),
            "python_implementation": platform.python_implementation(),
            "blas": blas_description(),
        },
        libraries=libraries(estimator, skops),
        training_data=training_data or _training_data(data, y),
        hyperparameters=_hyperparameters(estimator) if hyperparameters is None else hyperparameters,
        random_seed=seed,
        metrics=training_metrics(original, fitted_on, y, target) if metrics is None else metrics,
        feature_names=[f.name for f in schema],
        class_names=_class_names(target, class_names),
        feature_statistics=inputs.statistics(data, schema),
        fast_export=fast_found,
        input_schema=schema,
        task=target,
    )
    # Every backend whose file the folder holds is verified before the folder is written.
    backends = [b for b, wanted in BACKEND_FILES.items() if wanted in files]
    magnitude = magnitudes(original, fitted_on)
    _write_verified(
        Path(output),
        files,
        manifest,
        lambda folder: verify_backends(folder, expected, rows, backends, magnitude),
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
    for stale in {JOBLIB_NAME, SKOPS_NAME, EXPLAIN_NAME, *FAST_FILES} - set(files):
        (output / stale).unlink(missing_ok=True)

"""The artifact manifest: written by training, read and verified by the loader.

One module owns the format so the writer and the reader cannot drift apart.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from irisserve.errors import ArtifactIntegrityError, ArtifactMissing, UntrustedArtifact

__all__ = [
    "CATEGORICAL",
    "CLASSIFICATION",
    "MANIFEST_NAME",
    "NUMERIC",
    "REGRESSION",
    "SCHEMA_VERSION",
    "TEXT",
    "Feature",
    "FeatureStatistics",
    "Manifest",
    "Task",
    "read_manifest",
    "sha256_bytes",
    "sha256_file",
    "verify_files",
    "write_manifest",
]

MANIFEST_NAME = "manifest.json"
SCHEMA_VERSION = 1

NUMERIC = "numeric"
CATEGORICAL = "categorical"
#: Free text (a string a text vectorizer reads): no categories, any string accepted.
TEXT = "text"
#: The kinds of feature an input schema holds.
FEATURE_TYPES = (NUMERIC, CATEGORICAL, TEXT)
CLASSIFICATION = "classification"
REGRESSION = "regression"
#: What a categorical feature's estimator does with a category it never saw.
UNKNOWN_POLICIES = ("error", "ignore")
#: How a classifier scores beside its label.
CLASS_SCORES = ("predict_proba", "decision_function", None)
#: A library's scikit-learn wrappers (their class-name prefix) → the library, as the Open
#: Inference Protocol's model ``platform`` names it.
_FRAMEWORKS = {"XGB": "xgboost", "LGBM": "lightgbm"}


@dataclass(frozen=True)
class FeatureStatistics:
    """What one feature looked like in the training split."""

    min: float
    max: float
    mean: float
    std: float


@dataclass(frozen=True)
class Feature:
    """One input column, in the estimator's column order.

    ``type`` is ``numeric`` (finite numbers; statistics in the manifest's
    ``feature_statistics``), ``categorical`` (one of ``categories``, as trained) or
    ``text`` (any string, read by a text vectorizer; no categories, so no training text
    is recorded, and ``unknown`` is ``ignore``: every text is scored, with no warning).
    ``nullable``: the estimator accepts a missing value here (it imputes or handles it).
    ``unknown``: ``error`` when the estimator refuses a category it never saw,
    ``ignore`` when it scores one (served with a drift warning).
    """

    name: str
    type: str = NUMERIC
    nullable: bool = False
    categories: list[str | int | float] | None = None
    unknown: str = "error"


@dataclass(frozen=True)
class Task:
    """What the model predicts.

    Classification: ``classes`` as scikit-learn's ``classes_`` (JSON values), and
    ``scores`` = ``predict_proba``, ``decision_function`` or ``None`` (labels only).
    Regression: ``output`` names the predicted value; ``target`` holds its training range.
    """

    type: str
    classes: list[Any] | None = None
    scores: str | None = None
    output: str | None = None
    target: FeatureStatistics | None = None


@dataclass(frozen=True)
class Manifest:
    """Everything needed to trust, reproduce and describe one artifact."""

    schema_version: int
    model_name: str
    model_version: str
    model_type: str
    created_at: str
    files: dict[str, str]
    platform: dict[str, str]
    libraries: dict[str, str]
    training_data: dict[str, Any]
    hyperparameters: dict[str, Any]
    random_seed: int | None
    metrics: dict[str, Any]
    feature_names: list[str]
    class_names: list[str]
    feature_statistics: dict[str, FeatureStatistics]
    fast_export: dict[str, Any] | None = None
    input_schema: list[Feature] | None = None
    task: Task | None = None

    @property
    def features(self) -> list[Feature]:
        """The input schema (a manifest without one: every feature numeric, never null)."""
        if self.input_schema is not None:
            return self.input_schema
        return [Feature(name) for name in self.feature_names]

    @property
    def prediction_task(self) -> Task:
        """The task (a manifest without one: classes 0..n-1 with probabilities)."""
        if self.task is not None:
            return self.task
        classes = list(range(len(self.class_names)))
        return Task(CLASSIFICATION, classes=classes, scores="predict_proba")

    @property
    def framework(self) -> str:
        """What the model is: ``xgboost`` or ``lightgbm`` when its final estimator is one
        of that library's scikit-learn wrappers (and the library is recorded), else
        ``sklearn``."""
        final = self.model_type.removesuffix(")").rsplit("(", 1)[-1].rsplit(", ", 1)[-1]
        for prefix, library in _FRAMEWORKS.items():
            if final.startswith(prefix) and any(
                name.split("-")[0] == library for name in self.libraries
            ):
                return library
        return "sklearn"

    def to_json(self) -> str:
        """Serialise deterministically: sorted keys, two-space indent, trailing newline."""
        raw = {
            key: value
            for key, value in asdict(self).items()
            if value is not None or key not in ("fast_export", "input_schema", "task")
        }
        return json.dumps(raw, indent=2, sort_keys=True, allow_nan=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Parse and check the shape of a manifest; raise ``ArtifactIntegrityError`` if wrong.

        A field this class does not know is ignored: ``linear_export``, the record of the
        removed ``linear.json`` format, in a manifest written before it was removed.
        """
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise ArtifactIntegrityError(f"manifest is not valid JSON: {exc}") from exc
        if not isinstance(raw, dict):
            raise ArtifactIntegrityError("manifest must be a JSON object")
        if raw.get("schema_version") != SCHEMA_VERSION:
            raise ArtifactIntegrityError(
                f"manifest schema_version {raw.get('schema_version')!r} is not supported "
                f"(expected {SCHEMA_VERSION}); retrain with this irisserve version"
            )
        known = {f.name for f in fields(cls)}
        required = {f.name for f in fields(cls) if f.name not in _OPTIONAL}
        missing = sorted(required - raw.keys())
        if missing:
            raise ArtifactIntegrityError(f"manifest is missing {', '.join(missing)}")
        try:
            stats = {
                name: FeatureStatistics(**values)
                for name, values in raw["feature_statistics"].items()
            }
            manifest = cls(
                **{
                    **{k: v for k, v in raw.items() if k in known},
                    "feature_statistics": stats,
                    "input_schema": _features(raw.get("input_schema")),
                    "task": _task(raw.get("task")),
                }
            )
        except (TypeError, AttributeError) as exc:
            raise ArtifactIntegrityError(f"manifest is malformed: {exc}") from exc
        _check_types(manifest)
        return manifest


_OPTIONAL = ("fast_export", "input_schema", "task")


def _features(raw: Any) -> list[Feature] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise TypeError("input_schema must be a list of features")
    return [Feature(**item) for item in raw]


def _task(raw: Any) -> Task | None:
    if raw is None:
        return None
    target = raw.get("target")
    return Task(**{**raw, "target": None if target is None else FeatureStatistics(**target)})


def _schema_ok(manifest: Manifest) -> bool:
    features = manifest.features
    return [f.name for f in features] == manifest.feature_names and all(
        f.type in FEATURE_TYPES
        and isinstance(f.nullable, bool)
        and f.unknown in UNKNOWN_POLICIES
        and (f.type == CATEGORICAL) == (f.categories is not None)
        and (
            f.categories is None
            or (
                isinstance(f.categories, list)
                and all(type(c) in (str, int, float) for c in f.categories)
            )
        )
        for f in features
    )


def _task_ok(manifest: Manifest) -> bool:
    task = manifest.prediction_task
    if task.type == REGRESSION:
        return task.classes is None and task.scores is None and manifest.class_names == []
    return (
        task.type == CLASSIFICATION
        and isinstance(task.classes, list)
        and len(task.classes) == len(manifest.class_names) >= 2
        and task.scores in CLASS_SCORES
    )


def _check_types(manifest: Manifest) -> None:
    basic = {
        "model_version": isinstance(manifest.model_version, str),
        "files": isinstance(manifest.files, dict)
        and all(isinstance(v, str) for v in manifest.files.values()),
        "libraries": isinstance(manifest.libraries, dict),
        "feature_names": isinstance(manifest.feature_names, list)
        and all(isinstance(n, str) for n in manifest.feature_names),
        "class_names": isinstance(manifest.class_names, list)
        and all(isinstance(n, str) for n in manifest.class_names),
    }
    _refuse_wrong(basic)
    # The schema and task checks read the basic fields, so they run once those hold.
    _refuse_wrong({"input_schema": _schema_ok(manifest), "task": _task_ok(manifest)})


def _refuse_wrong(checks: dict[str, bool]) -> None:
    wrong = sorted(name for name, ok in checks.items() if not ok)
    if wrong:
        raise ArtifactIntegrityError(f"manifest fields have the wrong type: {', '.join(wrong)}")


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    return sha256_bytes(path.read_bytes())


def write_manifest(directory: Path, manifest: Manifest) -> Path:
    """Write ``manifest.json`` into ``directory`` and return its path."""
    path = directory / MANIFEST_NAME
    path.write_text(manifest.to_json(), encoding="utf-8")
    return path


def read_manifest(directory: Path, pinned_sha256: str | None = None) -> Manifest:
    """Read ``manifest.json`` from an artifact folder.

    With ``pinned_sha256`` (``IRISSERVE_MODEL_SHA256``), a manifest whose own sha256
    differs is refused with ``UntrustedArtifact`` before it is even parsed.
    """
    path = directory / MANIFEST_NAME
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ArtifactMissing(
            f"no {MANIFEST_NAME} in {directory}: point IRISSERVE_MODEL_DIR at an artifact "
            "folder written by `make train`"
        ) from exc
    actual = sha256_bytes(data)
    if pinned_sha256 is not None and actual != pinned_sha256:
        raise UntrustedArtifact(
            f"{MANIFEST_NAME} has sha256 {actual}, but IRISSERVE_MODEL_SHA256 pins "
            f"{pinned_sha256}: "
            "the artifact changed since it was pinned; restore the pinned artifact, or redeploy "
            "with IRISSERVE_MODEL_SHA256 set to the new manifest's sha256"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArtifactIntegrityError(f"{path} is not UTF-8 text") from exc
    return Manifest.from_json(text)


def verify_files(
    directory: Path, manifest: Manifest, skip: frozenset[str] = frozenset()
) -> dict[str, bytes]:
    """Read every file the manifest lists (but those in ``skip``) and check its sha256.

    Returns the verified bytes, so callers deserialise exactly what was checked
    (no second read that could see a different file).
    """
    verified: dict[str, bytes] = {}
    for name, expected in sorted(manifest.files.items()):
        if Path(name).name != name:
            raise ArtifactIntegrityError(f"manifest lists {name!r}, which is not a plain file name")
        if name in skip:
            continue
        path = directory / name
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise ArtifactMissing(
                f"{path} is listed in the manifest but missing; restore it or retrain"
            ) from exc
        actual = sha256_bytes(data)
        if actual != expected:
            raise ArtifactIntegrityError(
                f"{path} has sha256 {actual[:16]}..., the manifest expects {expected[:16]}...: "
                "the file is corrupt or was changed after training; restore it or retrain"
            )
        verified[name] = data
    return verified

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
    "MANIFEST_NAME",
    "SCHEMA_VERSION",
    "FeatureStatistics",
    "Manifest",
    "read_manifest",
    "sha256_bytes",
    "sha256_file",
    "verify_files",
    "write_manifest",
]

MANIFEST_NAME = "manifest.json"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class FeatureStatistics:
    """What one feature looked like in the training split."""

    min: float
    max: float
    mean: float
    std: float


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
    random_seed: int
    metrics: dict[str, Any]
    feature_names: list[str]
    class_names: list[str]
    feature_statistics: dict[str, FeatureStatistics]
    linear_export: dict[str, Any] | None = None

    def to_json(self) -> str:
        """Serialise deterministically: sorted keys, two-space indent, trailing newline."""
        return json.dumps(asdict(self), indent=2, sort_keys=True, allow_nan=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Parse and check the shape of a manifest; raise ``ArtifactIntegrityError`` if wrong."""
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
        required = {f.name for f in fields(cls) if f.name != "linear_export"}
        missing = sorted(required - raw.keys())
        if missing:
            raise ArtifactIntegrityError(f"manifest is missing {', '.join(missing)}")
        try:
            stats = {
                name: FeatureStatistics(**values)
                for name, values in raw["feature_statistics"].items()
            }
            manifest = cls(
                **{**{k: v for k, v in raw.items() if k in known}, "feature_statistics": stats}
            )
        except (TypeError, AttributeError) as exc:
            raise ArtifactIntegrityError(f"manifest is malformed: {exc}") from exc
        _check_types(manifest)
        return manifest


def _check_types(manifest: Manifest) -> None:
    checks = {
        "model_version": isinstance(manifest.model_version, str),
        "files": isinstance(manifest.files, dict)
        and all(isinstance(v, str) for v in manifest.files.values()),
        "libraries": isinstance(manifest.libraries, dict),
        "feature_names": isinstance(manifest.feature_names, list)
        and all(isinstance(n, str) for n in manifest.feature_names),
        "class_names": isinstance(manifest.class_names, list)
        and all(isinstance(n, str) for n in manifest.class_names),
    }
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


def verify_files(directory: Path, manifest: Manifest) -> dict[str, bytes]:
    """Read every file the manifest lists and check its sha256.

    Returns the verified bytes, so callers deserialise exactly what was checked
    (no second read that could see a different file).
    """
    verified: dict[str, bytes] = {}
    for name, expected in sorted(manifest.files.items()):
        if Path(name).name != name:
            raise ArtifactIntegrityError(f"manifest lists {name!r}, which is not a plain file name")
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

"""Open an artifact folder: verify it, then deserialise it into a ``Model``.

Nothing is deserialised before every file's sha256 matches the manifest, and a
pickle is never opened under a scikit-learn version other than the one that wrote it.
``auto`` never unpickles when the artifact holds a format that cannot run code.
"""

from __future__ import annotations

import io
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from irisserve.errors import ArtifactIntegrityError, ArtifactMissing, IncompatibleArtifact
from irisserve.linear import LINEAR_NAME, LinearScorer
from irisserve.manifest import Manifest, read_manifest, verify_files
from irisserve.model import Model, Scorer, SklearnScorer
from irisserve.skopsfile import SKOPS_NAME, load_estimator

__all__ = ["JOBLIB_NAME", "check_compatible", "open_artifact"]

JOBLIB_NAME = "model.joblib"
#: Backend → the file it serves from, in ``auto``'s order of preference.
_FILES = {"linear": LINEAR_NAME, "skops": SKOPS_NAME, "sklearn": JOBLIB_NAME}


def _installed_version(distribution: str) -> str | None:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def check_compatible(manifest: Manifest) -> None:
    """Refuse an artifact trained under another scikit-learn than the one installed."""
    trained = manifest.libraries.get("scikit-learn")
    installed = _installed_version("scikit-learn")
    if trained != installed:
        raise IncompatibleArtifact(
            f"artifact was trained with scikit-learn {trained}, this process has {installed}: "
            f"install scikit-learn=={trained} (the project lock) or retrain with `make train`"
        )


def _sklearn_scorer(data: bytes) -> SklearnScorer:
    import joblib  # deferred: joblib + scikit-learn cost most of a cold start

    try:
        return SklearnScorer(joblib.load(io.BytesIO(data)))
    except Exception as exc:  # a verified but unloadable pickle is still a broken artifact
        raise ArtifactIntegrityError(f"{JOBLIB_NAME} could not be loaded: {exc}") from exc


def open_artifact(
    directory: Path, backend: str = "auto", pinned_sha256: str | None = None
) -> Model:
    """Verify and load the artifact in ``directory``.

    ``backend`` is ``"linear"`` (numpy-only scorer from ``linear.json``),
    ``"skops"`` (``model.skops``, trusted types only), ``"sklearn"`` (unpickle
    ``model.joblib``) or ``"auto"`` (the first of those the manifest lists).
    ``pinned_sha256``, if given, is the only manifest sha256 accepted.
    """
    if not directory.is_dir():
        raise ArtifactMissing(
            f"model folder {directory} does not exist: set IRISSERVE_MODEL_DIR to an artifact "
            "folder or unset it to serve the bundled model"
        )
    manifest = read_manifest(directory, pinned_sha256)
    check_compatible(manifest)
    if backend == "auto":
        backend = next((b for b, name in _FILES.items() if name in manifest.files), "sklearn")
    wanted = _FILES[backend]
    if wanted not in manifest.files:
        raise ArtifactIntegrityError(f"the manifest lists no {wanted} for the {backend} backend")
    data = verify_files(directory, manifest)[wanted]
    scorer: Scorer
    if backend == "linear":
        scorer = LinearScorer.from_json(data)
    elif backend == "skops":
        scorer = SklearnScorer(load_estimator(data))
    else:
        scorer = _sklearn_scorer(data)
    return Model(manifest=manifest, scorer=scorer, backend=backend)

"""Open an artifact folder: verify it, then deserialise it into a ``Model``.

Nothing is deserialised before every file's sha256 matches the manifest, and a
pickle is never opened under a scikit-learn version other than the one that wrote it, nor
without every other library it needs at the version the manifest records
(``irisserve.artifact.requirements``).
``auto`` never unpickles when the artifact holds a format that cannot run code.
"""

from __future__ import annotations

import importlib.util
import io
import os
from pathlib import Path
from typing import Any

from irisserve.artifact.deferred import DEFERRED_FILES, DeferredFiles
from irisserve.artifact.manifest import Manifest, read_manifest, verify_files
from irisserve.artifact.model import Model
from irisserve.artifact.requirements import check_installed, installed_version
from irisserve.artifact.skops import SKOPS_NAME, load_estimator
from irisserve.errors import ArtifactIntegrityError, ArtifactMissing, IncompatibleArtifact
from irisserve.scorers.contract import Scorer
from irisserve.scorers.estimator import SklearnScorer

__all__ = [
    "BACKEND_FILES",
    "FAST_FILES",
    "JOBLIB_NAME",
    "auto_backend",
    "check_compatible",
    "open_artifact",
    "sklearn_scorer",
]

JOBLIB_NAME = "model.joblib"
#: The fast export's files (``irisserve.scorers``: JSON, and numpy arrays for trees).
FAST_NAME = "scorer.json"
FAST_FILES = (FAST_NAME, "scorer.npz")
#: Backend → the file it serves from, in ``auto``'s order of preference.
BACKEND_FILES = {
    "fast": FAST_NAME,
    "skops": SKOPS_NAME,
    "sklearn": JOBLIB_NAME,
}
#: The removed linear format (``irisserve.multinomial-linear/1``); ``scorer.json`` serves
#: the same models.
_REMOVED_LINEAR = "linear.json"


def _sklearn_wheel_is(trained: str) -> bool:
    """True when the one ``scikit_learn-*.dist-info`` folder beside ``sklearn`` is the
    ``trained`` version's: a directory listing, where ``importlib.metadata`` scans every
    path entry and parses a metadata file (1.5 ms of a cold start). False means "not
    shown this way", not "incompatible"."""
    spec = importlib.util.find_spec("sklearn")  # finds the package; imports nothing
    if spec is None or not spec.submodule_search_locations:
        return False
    folder = os.path.dirname(next(iter(spec.submodule_search_locations)))
    found = [name for name in os.listdir(folder) if name.startswith("scikit_learn-")]
    return [name for name in found if name.endswith(".dist-info")] == [
        f"scikit_learn-{trained}.dist-info"
    ]


def check_compatible(manifest: Manifest) -> None:
    """Refuse an artifact trained under another scikit-learn than the one installed."""
    trained = manifest.libraries.get("scikit-learn")
    if isinstance(trained, str) and _sklearn_wheel_is(trained):
        return
    installed = installed_version("scikit-learn")
    if trained != installed:
        raise IncompatibleArtifact(
            f"artifact was trained with scikit-learn {trained}, this process has {installed}: "
            f"install scikit-learn=={trained} (the project lock) or retrain with `make train`"
        )


def _missing_library(module: str, manifest: Manifest) -> IncompatibleArtifact:
    """The error for a pickle that needs ``module``, which this process cannot import."""
    top = module.split(".", maxsplit=1)[0]
    recorded = {name.lower().replace("-", "_"): name for name in manifest.libraries}
    distribution = recorded.get(top.lower())
    wanted = (
        f"{distribution}=={manifest.libraries[distribution]} (as the manifest records)"
        if distribution
        else f"the library that provides {top!r}"
    )
    return IncompatibleArtifact(
        f"{JOBLIB_NAME} needs the Python module {module!r}, which this process cannot "
        f"import: install {wanted} beside irisserve, or repackage the model without it"
    )


def _unpickle(data: bytes, manifest: Manifest) -> Any:
    import joblib  # deferred: joblib + scikit-learn cost most of a cold start

    try:
        return joblib.load(io.BytesIO(data))
    except ModuleNotFoundError as exc:  # the artifact is sound; this process lacks a library
        raise _missing_library(exc.name or str(exc), manifest) from exc
    except Exception as exc:  # a verified but unloadable pickle is still a broken artifact
        raise ArtifactIntegrityError(f"{JOBLIB_NAME} could not be loaded: {exc}") from exc


def sklearn_scorer(estimator: Any, manifest: Manifest) -> SklearnScorer:
    """The scikit-learn scorer of ``estimator`` for the manifest's schema and task."""
    return SklearnScorer(estimator, tuple(manifest.features), manifest.prediction_task)


def auto_backend(manifest: Manifest) -> str:
    """The backend ``auto`` serves the artifact with: the first whose file it lists."""
    return next((b for b, name in BACKEND_FILES.items() if name in manifest.files), "sklearn")


def open_artifact(
    directory: Path, backend: str = "auto", pinned_sha256: str | None = None
) -> Model:
    """Verify and load the artifact in ``directory``.

    ``backend`` is ``"fast"`` (``irisserve.scorers`` from ``scorer.json`` and
    ``scorer.npz``, no scikit-learn), ``"skops"`` (``model.skops``, trusted types only),
    ``"sklearn"`` (unpickle ``model.joblib``) or ``"auto"`` (the first of those the
    manifest lists; an artifact whose only pickle-free file is the removed ``linear.json``
    is refused rather than unpickled). ``pinned_sha256``, if given, is the only manifest
    sha256 accepted.
    """
    if not directory.is_dir():
        raise ArtifactMissing(
            f"model folder {directory} does not exist: set IRISSERVE_MODEL_DIR to an artifact "
            "folder or unset it to serve the bundled model"
        )
    manifest = read_manifest(directory, pinned_sha256)
    check_compatible(manifest)
    if backend == "auto":
        backend = auto_backend(manifest)
        if backend == "sklearn" and _REMOVED_LINEAR in manifest.files:
            raise IncompatibleArtifact(
                f"the artifact is served from {_REMOVED_LINEAR}, a format this irisserve "
                "no longer reads: repackage it (irisserve.packaging writes scorer.json, which "
                "the fast backend serves pickle-free), or set IRISSERVE_SCORER=sklearn to "
                "unpickle its model.joblib"
            )
    wanted = BACKEND_FILES[backend]
    if wanted not in manifest.files:
        raise ArtifactIntegrityError(f"the manifest lists no {wanted} for the {backend} backend")
    check_installed(manifest, backend)
    verified = verify_files(directory, manifest, skip=DEFERRED_FILES)
    deferred = {n: s for n, s in manifest.files.items() if n in DEFERRED_FILES}
    scorer: Scorer
    if backend == "fast":
        from irisserve.scorers import fast

        scorer = fast.load({name: verified[name] for name in FAST_FILES if name in verified})
    elif backend == "skops":
        scorer = sklearn_scorer(load_estimator(verified[wanted]), manifest)
    else:
        scorer = sklearn_scorer(_unpickle(verified[wanted], manifest), manifest)
    return Model(
        manifest=manifest,
        scorer=scorer,
        backend=backend,
        deferred=DeferredFiles(deferred, directory),
    )

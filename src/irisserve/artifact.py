"""Open an artifact folder: verify it, then deserialise it into a ``Model``.

Nothing is deserialised before every file's sha256 matches the manifest, and a
pickle is never opened under a scikit-learn version other than the one that wrote it.
``auto`` never unpickles when the artifact holds a format that cannot run code.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from irisserve.errors import ArtifactIntegrityError, ArtifactMissing, IncompatibleArtifact
from irisserve.linear import LINEAR_NAME, LinearScorer
from irisserve.manifest import Manifest, read_manifest, verify_files
from irisserve.model import PURE_PYTHON_ROWS, Cell, Model, Scorer, Scores, SklearnScorer
from irisserve.skopsfile import SKOPS_NAME, load_estimator

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["JOBLIB_NAME", "check_compatible", "open_artifact", "sklearn_scorer"]

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


@dataclass(frozen=True)
class _LinearRows:
    """``linear.json``'s scorer behind the ``Scorer`` contract: labels as class indices.

    Up to ``PURE_PYTHON_ROWS`` rows are scored in pure Python, more with numpy, whatever
    form they come in, so the same batch gets the same answer by every route.
    """

    linear: LinearScorer

    def score_rows(self, rows: Sequence[Sequence[Cell]] | npt.NDArray[np.float64]) -> Scores:
        if len(rows) <= PURE_PYTHON_ROWS:
            listed = rows if isinstance(rows, Sequence) else rows.tolist()
            labels, probabilities = self.linear.score_rows(listed)  # type: ignore[arg-type]
        else:
            import numpy as np

            array = np.asarray(rows, dtype=np.float64)
            array_labels, array_probabilities = self.linear.score(array)
            labels, probabilities = array_labels.tolist(), array_probabilities.tolist()
        index = self.linear.classes.index
        return Scores(labels=[index(label) for label in labels], probabilities=probabilities)


def _unpickle(data: bytes) -> Any:
    import joblib  # deferred: joblib + scikit-learn cost most of a cold start

    try:
        return joblib.load(io.BytesIO(data))
    except Exception as exc:  # a verified but unloadable pickle is still a broken artifact
        raise ArtifactIntegrityError(f"{JOBLIB_NAME} could not be loaded: {exc}") from exc


def sklearn_scorer(estimator: Any, manifest: Manifest) -> SklearnScorer:
    """The scikit-learn scorer of ``estimator`` for the manifest's schema and task."""
    return SklearnScorer(estimator, tuple(manifest.features), manifest.prediction_task)


def open_artifact(directory: Path, backend: str = "auto") -> Model:
    """Verify and load the artifact in ``directory``.

    ``backend`` is ``"linear"`` (numpy-only scorer from ``linear.json``),
    ``"skops"`` (``model.skops``, trusted types only), ``"sklearn"`` (unpickle
    ``model.joblib``) or ``"auto"`` (the first of those the manifest lists).
    """
    if not directory.is_dir():
        raise ArtifactMissing(
            f"model folder {directory} does not exist: set IRISSERVE_MODEL_DIR to an artifact "
            "folder or unset it to serve the bundled model"
        )
    manifest = read_manifest(directory)
    check_compatible(manifest)
    if backend == "auto":
        backend = next((b for b, name in _FILES.items() if name in manifest.files), "sklearn")
    wanted = _FILES[backend]
    if wanted not in manifest.files:
        raise ArtifactIntegrityError(f"the manifest lists no {wanted} for the {backend} backend")
    data = verify_files(directory, manifest)[wanted]
    scorer: Scorer
    if backend == "linear":
        scorer = _LinearRows(LinearScorer.from_json(data))
    elif backend == "skops":
        scorer = sklearn_scorer(load_estimator(data), manifest)
    else:
        scorer = sklearn_scorer(_unpickle(data), manifest)
    return Model(manifest=manifest, scorer=scorer, backend=backend)

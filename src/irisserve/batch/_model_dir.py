"""Open an artifact folder from any path Beam's ``FileSystems`` reads (local, ``gs://``...).

A local folder is opened in place by ``irisserve.artifact.folder.open_artifact``; a remote one
is first copied file by file into a temporary folder, then opened the same way, so
every check (sha256s, the manifest pin, scikit-learn version, scorer choice) is the
library's. (The function fetches ``gs://`` folders with ``irisserve.artifact.storage``; a pipeline
reads them with Beam's own GCS client, as it reads its input.)
"""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath

from apache_beam.io.filesystems import FileSystems

from irisserve.artifact.folder import open_artifact
from irisserve.artifact.manifest import MANIFEST_NAME
from irisserve.artifact.model import Model
from irisserve.errors import ArtifactMissing, ModelUnavailable

__all__ = ["open_model"]


def _copy(model_dir: str, local: Path) -> None:
    """Copy the folder's files (not its subfolders) into ``local``."""
    matched = FileSystems.match([FileSystems.join(model_dir, "*")])[0].metadata_list
    for metadata in matched:
        name = PurePosixPath(metadata.path).name
        with FileSystems.open(metadata.path) as source:
            (local / name).write_bytes(source.read())
    if not (local / MANIFEST_NAME).exists():
        raise ArtifactMissing(
            f"model folder {model_dir} holds no {MANIFEST_NAME}: point --model-dir at an "
            "artifact folder written by `make train`"
        )


def open_model(model_dir: str, backend: str, pinned_sha256: str | None = None) -> Model:
    """Verify and load the artifact in ``model_dir`` with the function's ``backend`` choice.

    ``pinned_sha256`` (``IRISSERVE_MODEL_SHA256``) is the only manifest sha256 accepted.
    Raises the library's ``ModelUnavailable`` errors, with their messages; a remote
    folder's messages name the remote path, not the temporary copy.
    """
    if FileSystems.get_scheme(model_dir) is None:  # a local path
        return open_artifact(Path(model_dir), backend, pinned_sha256)
    with tempfile.TemporaryDirectory(prefix="irisserve-model-") as temporary:
        try:
            _copy(model_dir, Path(temporary))
            return open_artifact(Path(temporary), backend, pinned_sha256)
        except ModelUnavailable as exc:
            raise type(exc)(str(exc).replace(temporary, model_dir.rstrip("/"))) from exc

"""Open the configured artifact: a local folder in place, a ``gs://`` one fetched first."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from irisserve.artifact.folder import open_artifact
from irisserve.artifact.model import Model
from irisserve.config import Settings

__all__ = ["open_configured"]


def open_configured(settings: Settings) -> tuple[Model, dict[str, Any]]:
    """Open the configured artifact; a ``gs://`` one is first fetched into a private folder.

    The fetched files are deleted once the model is in memory (on Cloud Functions
    ``/tmp`` is memory), whether or not the load succeeded.
    """
    source = settings.model_dir
    if isinstance(source, Path):
        return open_artifact(source, settings.scorer, settings.model_sha256), {}
    from irisserve.artifact.storage import fetch_artifact

    with tempfile.TemporaryDirectory(prefix="irisserve-model-") as folder:
        fetched = fetch_artifact(
            source,
            Path(folder),
            timeout=settings.load_wait_seconds,
            pinned_sha256=settings.model_sha256,
        )
        model = open_artifact(Path(folder), settings.scorer, settings.model_sha256)
        model.deferred.preload()  # the folder goes; its deferred files stay unparsed
    return model, {
        "manifest_sha256": fetched.manifest_sha256,
        "generations": fetched.generations,
        "download_bytes": fetched.size,
        "download_seconds": round(fetched.seconds, 6),
    }

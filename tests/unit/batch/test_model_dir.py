"""Artifact folders on any Beam file system: copied, then verified by the library.

``irisservetest:///path`` is a file system registered here that serves the local
``/path`` under a scheme of its own, so the remote path (``gs://`` on Dataflow) runs
for real without a network.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apache_beam.io.filesystem import FileMetadata
from apache_beam.io.localfilesystem import LocalFileSystem

from irisserve.artifact.folder import open_artifact
from irisserve.artifact.model import Model
from irisserve.batch._model_dir import open_model
from irisserve.errors import ArtifactIntegrityError, ArtifactMissing
from tests.helpers.support import break_artifact

PREFIX = "irisservetest://"


class PrefixedFileSystem(LocalFileSystem):
    """The local file system under the ``irisservetest://`` scheme."""

    @classmethod
    def scheme(cls) -> str:
        return "irisservetest"

    def join(self, basepath: str, *paths: str) -> str:
        return PREFIX + os.path.join(basepath.removeprefix(PREFIX), *paths)

    def _list(self, dir_or_prefix: str) -> Iterator[FileMetadata]:
        for folder, _, files in os.walk(dir_or_prefix.removeprefix(PREFIX)):
            for name in files:
                path = os.path.join(folder, name)
                yield FileMetadata(PREFIX + path, os.path.getsize(path), os.path.getmtime(path))

    def open(self, path: str, *args: Any, **kwargs: Any) -> Any:
        return super().open(path.removeprefix(PREFIX), *args, **kwargs)


def test_a_remote_folder_is_verified_and_loaded_like_a_local_one(
    artifact_dir: Path, model: Model
) -> None:
    remote = open_model(PREFIX + str(artifact_dir), "auto")
    assert (remote.version, remote.backend) == (model.version, model.backend)
    assert remote.manifest == model.manifest
    assert open_model(PREFIX + str(artifact_dir), "sklearn").backend == "sklearn"


def test_a_tampered_remote_folder_fails_with_the_library_s_message_naming_it(
    artifact_dir: Path,
) -> None:
    break_artifact(artifact_dir, "tampered")
    with pytest.raises(ArtifactIntegrityError) as local:
        open_artifact(artifact_dir)
    with pytest.raises(ArtifactIntegrityError) as remote:
        open_model(PREFIX + str(artifact_dir), "auto")
    assert str(remote.value) == str(local.value).replace(
        str(artifact_dir), PREFIX + str(artifact_dir)
    )
    assert "sha256" in str(remote.value)


def test_a_remote_folder_without_a_manifest_is_missing(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not an artifact")
    with pytest.raises(ArtifactMissing, match=r"irisservetest://.* holds no manifest.json"):
        open_model(PREFIX + str(tmp_path), "auto")


def test_a_local_folder_gets_the_function_s_messages_unchanged(tmp_path: Path) -> None:
    with pytest.raises(ArtifactMissing) as local:
        open_artifact(tmp_path / "nowhere")
    with pytest.raises(ArtifactMissing) as batch:
        open_model(str(tmp_path / "nowhere"), "auto")
    assert str(batch.value) == str(local.value)

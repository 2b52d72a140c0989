"""Deferred files: unread at load, verified against the manifest when first read."""

from __future__ import annotations

from pathlib import Path

import pytest

from irisserve.artifact.deferred import DeferredFiles
from irisserve.artifact.manifest import sha256_bytes
from irisserve.errors import ArtifactIntegrityError, ArtifactMissing


def test_a_listed_file_is_read_and_checked_on_first_use(tmp_path: Path) -> None:
    (tmp_path / "explain.npz").write_bytes(b"covers")
    files = DeferredFiles({"explain.npz": sha256_bytes(b"covers")}, tmp_path)
    assert files.read("explain.npz") == b"covers"
    assert files.read("other.npz") is None  # not listed: nothing to read
    (tmp_path / "explain.npz").write_bytes(b"changed")
    assert files.read("explain.npz") == b"covers"  # read once


def test_a_changed_or_missing_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "explain.npz").write_bytes(b"changed")
    files = DeferredFiles({"explain.npz": sha256_bytes(b"covers")}, tmp_path)
    with pytest.raises(ArtifactIntegrityError, match="sha256"):
        files.read("explain.npz")
    gone = DeferredFiles({"explain.npz": sha256_bytes(b"covers")}, tmp_path / "nowhere")
    with pytest.raises(ArtifactMissing):
        gone.read("explain.npz")


def test_preloaded_files_outlive_their_folder(tmp_path: Path) -> None:
    (tmp_path / "explain.npz").write_bytes(b"covers")
    files = DeferredFiles({"explain.npz": sha256_bytes(b"covers")}, tmp_path)
    files.preload()
    (tmp_path / "explain.npz").unlink()
    assert files.read("explain.npz") == b"covers"

"""Artifact files read only when a request needs them (``explain.npz``), not at load.

Their sha256 is checked against the manifest when they are read, as every other file's is
at load. A folder that goes away after the load (a ``gs://`` one, fetched into a private
folder) has them read into memory first (``preload``), and checked on first use.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from irisserve.artifact.manifest import sha256_bytes
from irisserve.errors import ArtifactIntegrityError, ArtifactMissing

__all__ = ["DEFERRED_FILES", "DeferredFiles"]

#: The files a load leaves unread.
DEFERRED_FILES = frozenset({"explain.npz"})


@dataclass
class DeferredFiles:
    """The deferred files an artifact lists (name → sha256), read from ``directory``."""

    expected: dict[str, str] = field(default_factory=dict)
    directory: Path | None = None
    _read: dict[str, bytes] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def preload(self) -> None:
        """Read every deferred file now (unchecked): the folder is about to go."""
        for name in self.expected:
            self._read.setdefault(name, self._bytes(name))
        self.directory = None

    def _bytes(self, name: str) -> bytes:
        if self.directory is None:
            raise ArtifactMissing(f"{name} was not kept when the model was loaded")
        path = self.directory / name
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise ArtifactMissing(
                f"{path} is listed in the manifest but missing; restore it or repackage"
            ) from exc

    def read(self, name: str) -> bytes | None:
        """The verified bytes of ``name``, or None if the manifest does not list it."""
        if name not in self.expected:
            return None
        with self._lock:
            data = self._read.get(name)
            if data is None:
                data = self._bytes(name)
            if sha256_bytes(data) != self.expected[name]:
                raise ArtifactIntegrityError(
                    f"{name} does not match the manifest's sha256: the file is corrupt or was "
                    "changed after packaging; restore it or repackage"
                )
            self._read[name] = data
            return data

"""The bundled artifact as main packaged it, before explanations: no ``explain.npz``."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from irisserve.artifact.manifest import read_manifest, sha256_file, write_manifest
from tests.helpers.support import BUNDLED

#: The sha256 of the bundled ``manifest.json`` before explanations (main, 83fb86f).
OLD_MANIFEST_SHA256 = "768a8e8ae544517686e506a08cabe827a61a3ffd213d025281fb16cf6774bb98"


def old_artifact(folder: Path) -> Path:
    """Write the bundled artifact as it was before ``explain.npz``, byte for byte, in ``folder``."""
    shutil.copytree(BUNDLED, folder)
    (folder / "explain.npz").unlink()
    manifest = read_manifest(folder)
    files = {name: sha for name, sha in manifest.files.items() if name != "explain.npz"}
    write_manifest(folder, dataclasses.replace(manifest, files=files))
    assert sha256_file(folder / "manifest.json") == OLD_MANIFEST_SHA256
    return folder

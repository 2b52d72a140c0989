"""Compare a freshly trained artifact folder with another (normally the bundled one).

Model files must be byte-identical; manifests may differ only in ``created_at`` and
``platform`` (the machine that trained).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["MACHINE_FIELDS", "artifact_differences"]

#: Manifest fields that describe when and where training ran, not what it produced.
MACHINE_FIELDS = ("created_at", "platform")


def _manifest(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for field in MACHINE_FIELDS:
        data.pop(field, None)
    return data


def artifact_differences(fresh: Path, reference: Path) -> list[str]:
    """What differs between two artifact folders, one line each; empty when identical."""
    differences = []
    fresh_manifest, reference_manifest = _manifest(fresh), _manifest(reference)
    for name in sorted(set(fresh_manifest["files"]) | set(reference_manifest["files"])):
        a, b = fresh / name, reference / name
        if not (a.is_file() and b.is_file() and a.read_bytes() == b.read_bytes()):
            differences.append(f"{name} differs")
    for key in sorted(set(fresh_manifest) | set(reference_manifest)):
        if fresh_manifest.get(key) != reference_manifest.get(key):
            differences.append(f"manifest.json field {key!r} differs")
    return differences

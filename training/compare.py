"""Compare a freshly trained artifact folder with another (normally the bundled one).

Model files must be byte-identical; manifests may differ only in ``created_at``,
``platform`` (the machine that trained) and the measured agreement of the export with
scikit-learn (``max_difference``: scikit-learn's side runs on the machine's BLAS).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["MACHINE_FIELDS", "MEASURED_FIELDS", "artifact_differences"]

#: Manifest fields that describe when and where training ran, not what it produced.
MACHINE_FIELDS = ("created_at", "platform")
#: Fields, at any depth, measuring an export against scikit-learn on the training machine.
MEASURED_FIELDS = frozenset({"max_difference"})


def _without_measurements(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _without_measurements(item)
            for key, item in value.items()
            if key not in MEASURED_FIELDS
        }
    if isinstance(value, list):
        return [_without_measurements(item) for item in value]
    return value


def _manifest(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for field in MACHINE_FIELDS:
        data.pop(field, None)
    return dict(_without_measurements(data))


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

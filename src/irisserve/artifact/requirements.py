"""The libraries a backend needs at serving time beyond the serving lock, and their check.

The manifest's ``libraries`` records every library the pickled model refers to (Python,
scikit-learn, numpy, joblib; skops with ``model.skops``; xgboost, lightgbm, scipy...).
The pickle-free backend needs none of them. A backend that deserialises the model
(``sklearn``, ``skops``) needs each at the version that packaged it: this process must
have it (checked when the artifact is opened), and ``deploy.sh`` stages it. Not checked:
Python (its patch release), numpy and joblib (their pickles load across versions, and the
serving lock brings them) and scikit-learn (``irisserve.artifact.folder.check_compatible``
checks it for every backend).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from irisserve.artifact.manifest import Manifest
from irisserve.errors import IncompatibleArtifact

__all__ = ["DESERIALISING", "check_installed", "installed_version", "needed"]

#: The backends that deserialise the model, and the library each needs beyond the rest.
DESERIALISING = {"sklearn": None, "skops": "skops"}
_UNCHECKED = frozenset({"python", "numpy", "joblib", "scikit-learn", "skops"})


def installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution``, or None."""
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def needed(manifest: Manifest, backend: str) -> dict[str, str]:
    """Distribution → version, for every library ``backend`` needs that the manifest
    records, besides Python, numpy, joblib and scikit-learn (none for ``fast``)."""
    if backend not in DESERIALISING:
        return {}
    own = DESERIALISING[backend]
    return {
        name: wanted
        for name, wanted in sorted(manifest.libraries.items())
        if (name not in _UNCHECKED or name == own) and isinstance(wanted, str)
    }


def check_installed(manifest: Manifest, backend: str) -> None:
    """Refuse the artifact unless this process has every library ``backend`` needs at the
    version the manifest records."""
    for name, wanted in needed(manifest, backend).items():
        installed = installed_version(name)
        if installed == wanted:
            continue
        if installed is None:
            had, instead = "which this process does not have", "without it"
        else:
            had, instead = f"this process has {name} {installed}", f"under {name} {installed}"
        raise IncompatibleArtifact(
            f"the artifact was packaged with {name} {wanted}, {had}: install {name}=={wanted} "
            f"(as the manifest records) beside irisserve (./deploy.sh stages it), or "
            f"repackage the model {instead}"
        )

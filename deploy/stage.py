"""The staged folder: what Cloud Build uploads, installs and runs.

``main.py`` (the entry points), ``model/`` (the artifact, unless it is loaded from
``gs://``), ``wheels/`` (irisserve built from this checkout), a ``requirements.txt``
pinned exactly as ``requirements/serve.txt``, then every library beyond the lock that the
backend serving the model needs (a pickled XGBoost or LightGBM model: that library, at the
version that packaged it; ``irisserve.artifact.requirements``), and a ``.gcloudignore``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from deploy.options import REPO, STAGE_MARKER, Options, UsageError, pinned
from irisserve.artifact.folder import auto_backend
from irisserve.artifact.manifest import Manifest, read_manifest, verify_files
from irisserve.artifact.requirements import needed
from irisserve.artifact.storage import fetch_artifact
from irisserve.config import GcsLocation
from irisserve.errors import (
    ArtifactIntegrityError,
    ArtifactMissing,
    ConfigurationError,
    ModelUnavailable,
)

__all__ = ["LOCK", "check_model", "check_options", "stage"]

LOCK = REPO / "requirements" / "serve.txt"
ENTRY_POINTS = REPO / "functions" / "predict" / "main.py"

_GCLOUDIGNORE = f"""\
# Written by deploy.sh: upload everything staged here except bytecode caches and the
# log-based metric configs (--create-log-metrics).
.gcloudignore
{STAGE_MARKER}
log-metrics/
__pycache__/
*.pyc
"""


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock_pins() -> dict[str, str]:
    """Distribution (normalised) → the version the lock pins."""
    found = re.findall(r"(?m)^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)", LOCK.read_text())
    return {_normalized(name): pin for name, pin in found}


def _backend(manifest: Manifest, env: tuple[str, ...]) -> str:
    """The backend the function will serve with: ``IRISSERVE_SCORER`` if set, else auto's."""
    settings = dict(pair.split("=", 1) for pair in env)
    scorer = settings.get("IRISSERVE_SCORER", "auto").strip().lower() or "auto"
    return auto_backend(manifest) if scorer == "auto" else scorer


def _extra_pins(manifest: Manifest, backend: str, name: str) -> tuple[str, ...]:
    """``NAME==VERSION`` for each library ``backend`` needs that the lock lacks; a library
    the lock pins at another version than the manifest records is refused."""
    lock = _lock_pins()
    extra = []
    for library, wanted in needed(manifest, backend).items():
        locked = lock.get(_normalized(library))
        if locked is None:
            extra.append(f"{library}=={wanted}")
        elif locked != wanted:
            raise UsageError(
                f"--model-dir '{name}' was packaged with {library} {wanted}, "
                f"requirements/serve.txt pins {locked}: repackage it or re-lock"
            )
    return tuple(extra)


def check_model(
    folder: Path, shown: str | None = None, env: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """The artifact must match its manifest, and be trained by the scikit-learn the lock
    pins; return the pins of the libraries beyond the lock that serving it needs (under
    the ``IRISSERVE_SCORER`` that ``env`` sets, else ``auto``'s backend).

    ``shown`` names it in messages (default: the folder).
    """
    name = shown or str(folder)
    try:
        manifest = read_manifest(folder)
        verify_files(folder, manifest)
    except (ArtifactMissing, ArtifactIntegrityError) as exc:
        raise UsageError(f"--model-dir '{name}': {exc}") from None
    trained = manifest.libraries.get("scikit-learn", "unknown")
    locked = _lock_pins().get("scikit-learn", "")
    if trained != locked:
        raise UsageError(
            f"--model-dir '{name}' was trained with scikit-learn {trained}, "
            f"requirements/serve.txt pins {locked}: retrain or re-lock"
        )
    return _extra_pins(manifest, _backend(manifest, env), name)


def _pin_from_bucket(options: Options, location: GcsLocation) -> Options:
    """Download the bucket's artifact as the function will, check it, pin its manifest."""
    with tempfile.TemporaryDirectory(prefix="irisserve-deploy-") as folder:
        try:
            fetched = fetch_artifact(location, Path(folder), timeout=60)
        except (ModelUnavailable, ConfigurationError) as exc:
            raise UsageError(
                f"--model-dir '{location}' could not be read to pin it ({exc}); or give "
                "--model-sha256 HEX, or --no-pin"
            ) from None
        libraries = check_model(Path(folder), str(location), options.env)
    return replace(pinned(options, fetched.manifest_sha256), libraries=libraries)


def check_options(options: Options) -> Options:
    """Check the model a deployment will serve, and add the libraries beyond the lock it
    needs; a gs:// one read now is also pinned."""
    if isinstance(options.model_dir, Path):
        return replace(options, libraries=check_model(options.model_dir, env=options.env))
    if options.pin_from_bucket:
        return _pin_from_bucket(options, options.model_dir)
    return options


def _build_wheel(options: Options, out: Path) -> Path:
    if options.wheel is not None:
        shutil.copy2(options.wheel, out)
    else:
        uv = Path(sys.executable).parent / "uv"
        command = (
            [str(uv), "build", "--quiet", "--wheel", "--no-create-gitignore", "--out-dir"]
            if uv.exists()
            else [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir"]
        )
        command += [str(out), str(REPO)]
        subprocess.run(command, check=True)
    wheels = sorted(out.glob("irisserve-*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(f"expected one irisserve wheel in {out}, found {len(wheels)}")
    return wheels[0]


def _requirements(wheel: Path, libraries: tuple[str, ...]) -> str:
    """The lock's pins without comments, the model's ``libraries`` beyond them, then the
    wheel by its path relative to the folder."""
    pins = [re.sub(r"\s*#.*$", "", line) for line in LOCK.read_text().splitlines()]
    return "".join(
        [
            "# Generated by deploy.sh from requirements/serve.txt: every dependency pinned.\n",
            "# pip resolves ./wheels relative to the folder it runs in; the buildpack runs it "
            "here.\n",
            *(f"{pin}\n" for pin in pins if pin.strip()),
            *(
                ["# The model's libraries beyond the lock, as its manifest records them.\n"]
                if libraries
                else []
            ),
            *(f"{pin}\n" for pin in libraries),
            f"./wheels/{wheel.name}\n",
        ]
    )


def stage(options: Options) -> None:
    """Replace ``options.stage_dir`` with a fresh staged folder."""
    folder = options.stage_dir
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "wheels").mkdir(parents=True)
    (folder / STAGE_MARKER).touch()
    shutil.copy2(ENTRY_POINTS, folder / "main.py")
    if isinstance(options.model_dir, Path):
        shutil.copytree(options.model_dir, folder / "model")
    wheel = _build_wheel(options, folder / "wheels")
    (folder / "requirements.txt").write_text(_requirements(wheel, options.libraries))
    (folder / ".gcloudignore").write_text(_GCLOUDIGNORE)

"""Third-party V2 clients, each in its own virtual environment, driven by a script.

The KServe SDK and MLServer cannot share the project's locked environment (both pin
``protobuf<7``; kserve ``python-dateutil<3``; mlserver an older starlette). Each gets
``.venv-clients/<name>`` (git-ignored), installed with uv from
``requirements/clients/<name>.txt`` and rebuilt when that lock changes. A test hands the
client script a JSON plan on stdin and reads the JSON it prints.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.helpers.support import REPO, FunctionProcess

CLIENTS = Path(__file__).resolve().parent
VENVS = REPO / ".venv-clients"
LOCKS = REPO / "requirements" / "clients"
UV = Path(sys.executable).parent / "uv"
INSTALL_TIMEOUT = 900.0
RUN_TIMEOUT = 300.0


def _run(command: list[str], timeout: float, stdin: str | None = None) -> str:
    """Run ``command``; its stdout, or an AssertionError carrying everything it said."""
    done = subprocess.run(
        command, input=stdin, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
        )
    return done.stdout


def client_python(name: str) -> Path:
    """The Python of ``name``'s own environment, created or refreshed from its lock."""
    lock = LOCKS / f"{name}.txt"
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    venv = VENVS / name
    python = venv / "bin" / "python"
    stamp = venv / ".lock-sha256"
    if stamp.is_file() and stamp.read_text() == digest and python.exists():
        return python
    shutil.rmtree(venv, ignore_errors=True)
    _run([str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)], 120.0)
    install = [str(UV), "pip", "install", "--quiet", "--compile-bytecode", "--python", str(python)]
    _run([*install, "--no-deps", "-r", str(lock)], INSTALL_TIMEOUT)
    stamp.write_text(digest)
    return python


def run_client(name: str, plan: dict[str, Any], server: FunctionProcess | None = None) -> Any:
    """Run ``tests/clients/<name>_calls.py`` in its environment on ``plan`` plus ``"url"``: a
    real process's (``server``, or one started for this run). What the script printed."""
    command = [str(client_python(name)), str(CLIENTS / f"{name}_calls.py")]
    with contextlib.ExitStack() as stack:
        if server is None:
            server = stack.enter_context(FunctionProcess())
        out = _run(command, RUN_TIMEOUT, json.dumps({**plan, "url": server.url}))
    return json.loads(out)

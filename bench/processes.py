"""The variants the harness compares, and one functions-framework process per sample.

A process is the production command started by ``tests.helpers.processes.FunctionProcess``;
"ready" means the first 200 answer to a probe request, polled every ~2 ms.
"""

from __future__ import annotations

import compileall
import http.client
import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers.processes import (
    BUNDLED,
    FUNCTIONS_FRAMEWORK,
    MAIN,
    REPO,
    FunctionProcess,
    Reply,
    free_port,
    process_tree,
    worker_pid,
)

__all__ = [
    "BUNDLED",
    "FLOOR_MAIN",
    "FUNCTIONS_FRAMEWORK",
    "HEALTH",
    "MAIN",
    "PREDICT",
    "PREDICT_ROW",
    "REPO",
    "VARIANTS",
    "FunctionProcess",
    "Probe",
    "Reply",
    "TimedProcess",
    "Variant",
    "compile_sources",
    "free_port",
    "process_tree",
    "wait_for_ok",
    "worker_pid",
]

FLOOR_MAIN = REPO / "bench" / "floor" / "main.py"
_POLL_SECONDS = 0.002


def compile_sources() -> None:
    """Write the bytecode of irisserve, the entry points and the floor, as installing a wheel
    does (the deployed function's case, and the floor's libraries'): without it, a process
    started with ``PYTHONDONTWRITEBYTECODE`` set compiles irisserve from source on every cold
    start (``irisserve.serving.wsgi``'s import: about 26 ms instead of 11 ms here)."""
    for folder in (REPO / "src" / "irisserve", MAIN.parent, FLOOR_MAIN.parent):
        if not compileall.compile_dir(folder, quiet=1):
            raise RuntimeError(f"{folder} does not compile")


@dataclass(frozen=True)
class Probe:
    """One HTTP request the harness sends: method, path, a body and any extra headers.

    A body is sent as JSON unless ``extra_headers`` say otherwise.
    """

    method: str
    path: str
    body: bytes | None = None
    extra_headers: tuple[tuple[str, str], ...] = ()

    @property
    def headers(self) -> dict[str, str]:
        base = {"Content-Type": "application/json"} if self.body is not None else {}
        return {**base, **dict(self.extra_headers)}


#: The single row the harness's probes send (a setosa, inside the training ranges).
PREDICT_ROW = [5.1, 3.5, 1.4, 0.2]
PREDICT = Probe("POST", "/predict", json.dumps({"features": PREDICT_ROW}).encode())
HEALTH = Probe("GET", "/")


@dataclass(frozen=True)
class Variant:
    """A function to measure: its source file and the environment it runs with.

    ``from_storage``: the bundled model is served from ``gs://`` on a local Cloud
    Storage emulator that the harness starts (it adds the variables that say where).
    ``predict`` is its single-row request; ``batch``, when given, its 10,000-row request
    (else the harness's Iris batches); ``batches`` off skips the batch measurements, and
    ``routes`` off the cold starts on the other routes (their probes send an Iris row).
    """

    name: str
    label: str
    source: Path
    env: dict[str, str]
    from_storage: bool = False
    predict: Probe = PREDICT
    batch: Probe | None = None
    batches: bool = True
    routes: bool = True


#: The floor first: every ratio is taken against it. The irisserve variants set
#: both switches explicitly so an IRISSERVE_* in the caller's shell cannot leak in.
VARIANTS: tuple[Variant, ...] = (
    Variant("floor", "no-op function (floor)", FLOOR_MAIN, {}),
    Variant(
        "lazy",
        "irisserve lazy (default)",
        MAIN,
        {"IRISSERVE_EAGER_LOAD": "0", "IRISSERVE_SCORER": "auto"},
    ),
    Variant(
        "eager",
        "irisserve eager (container)",
        MAIN,
        {"IRISSERVE_EAGER_LOAD": "1", "IRISSERVE_SCORER": "auto"},
    ),
    Variant(
        "gcs",
        "irisserve lazy, gs:// model (emulator)",
        MAIN,
        {"IRISSERVE_EAGER_LOAD": "0", "IRISSERVE_SCORER": "auto"},
        from_storage=True,
    ),
    Variant(
        "sklearn",
        "irisserve joblib + scikit-learn",
        MAIN,
        {"IRISSERVE_EAGER_LOAD": "0", "IRISSERVE_SCORER": "sklearn"},
    ),
)


def _answer(port: int, probe: Probe, timeout: float) -> int:
    """Status of one request on a fresh connection; raises ``OSError`` if none."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(probe.method, probe.path, probe.body, probe.headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@dataclass
class TimedProcess(FunctionProcess):
    """A ``FunctionProcess`` that is ready once ``probe`` is answered with a 200."""

    probe: Probe = field(default=HEALTH)

    def wait_ready(self, path: str = "/", timeout: float = 30.0) -> None:
        """Send ``probe`` every ~2 ms until a 200 (bounded by ``timeout``)."""
        assert self.process is not None
        wait_for_ok(self.process, self.port, self.probe, timeout, self.output)


def wait_for_ok(
    process: subprocess.Popen[bytes],
    port: int,
    probe: Probe,
    timeout: float,
    output: Callable[[], str],
) -> None:
    """Send ``probe`` to ``port`` every ~2 ms until a 200, while ``process`` runs (bounded)."""
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited early:\n{output()[-4000:]}")
        try:
            status = _answer(port, probe, max(deadline - time.monotonic(), 0.01))
        except OSError:
            status = None
        if status == 200:
            return
        time.sleep(_POLL_SECONDS)
    raise TimeoutError(f"no 200 within {timeout}s (last status {status}):\n{output()[-2000:]}")

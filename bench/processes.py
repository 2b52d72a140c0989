"""The variants the harness compares, and one functions-framework process per sample.

A process is the production command (``functions-framework --target predict
--source ... --host 127.0.0.1 --port N``) started by ``tests.support.FunctionProcess``;
here "ready" means the first 200 answer to a probe request, polled every ~2 ms.
"""

from __future__ import annotations

import http.client
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.support import MAIN, FunctionProcess

__all__ = [
    "FLOOR_MAIN",
    "HEALTH",
    "PREDICT",
    "VARIANTS",
    "Probe",
    "TimedProcess",
    "Variant",
    "process_tree",
    "wait_for_ok",
    "worker_pid",
]

FLOOR_MAIN = Path(__file__).resolve().parent / "floor" / "main.py"
_POLL_SECONDS = 0.002


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


PREDICT = Probe("POST", "/predict", b'{"features": [5.1, 3.5, 1.4, 0.2]}')
HEALTH = Probe("GET", "/")


@dataclass(frozen=True)
class Variant:
    """A function to measure: its source file and the environment it runs with.

    ``from_storage``: the bundled model is served from ``gs://`` on a local Cloud
    Storage emulator that the harness starts (it adds the variables that say where).
    ``predict`` is its single-row request; ``batch``, when given, its 10,000-row request
    (else the harness's Iris batches); ``batches`` off skips the batch measurements.
    """

    name: str
    label: str
    source: Path
    env: dict[str, str]
    from_storage: bool = False
    predict: Probe = PREDICT
    batch: Probe | None = None
    batches: bool = True


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


def _parents() -> dict[int, int]:
    """Every running process's parent: pid -> ppid."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # the process ended while we looked
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    return parents


def worker_pid(master_pid: int) -> int:
    """The gunicorn worker: the child process of the functions-framework master."""
    for pid, parent in _parents().items():
        if parent == master_pid:
            return pid
    raise LookupError(f"process {master_pid} has no worker child")


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants (children, their children, ...)."""
    parents = _parents()
    tree = [root]
    for pid in tree:  # grows as children are found
        tree += [child for child, parent in parents.items() if parent == pid]
    return tree

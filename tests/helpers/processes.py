"""A real functions-framework process on a free loopback port, and the repository's paths.

``FunctionProcess`` runs the production command (``functions-framework --target predict
--source ... --host 127.0.0.1 --port N``); the tests start it, and so does the bench harness
(``bench.processes`` imports it from here).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "BUNDLED",
    "FUNCTIONS_FRAMEWORK",
    "MAIN",
    "REPO",
    "FunctionProcess",
    "Reply",
    "free_port",
    "process_tree",
    "worker_pid",
]

REPO = Path(__file__).resolve().parents[2]
MAIN = REPO / "functions" / "predict" / "main.py"
BUNDLED = REPO / "src" / "irisserve" / "artifacts" / "iris"
FUNCTIONS_FRAMEWORK = Path(sys.executable).parent / "functions-framework"
_POLL_SECONDS = 0.002


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Reply:
    """An HTTP answer: status, headers and the body (decoded when JSON)."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FunctionProcess:
    """``functions-framework`` serving a target from ``main.py`` on 127.0.0.1."""

    target: str = "predict"
    env: dict[str, str] = field(default_factory=dict)
    source: Path = MAIN
    signature_type: str | None = None
    port: int = field(default_factory=free_port)
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    executable: Path = FUNCTIONS_FRAMEWORK  # another venv's functions-framework
    cwd: Path = REPO  # the folder the process runs in (a deployed function: its source)
    #: stdout goes to the "log" (with stderr), a "separate" file (``stdout_path``), or a
    #: "closed" pipe nobody reads, so every write to it fails.
    stdout: str = "log"
    stdout_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str = "/", timeout: float = 30.0) -> FunctionProcess:
        command = [
            str(self.executable),
            "--target",
            self.target,
            "--source",
            str(self.source),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        if self.signature_type:
            command += ["--signature-type", self.signature_type]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        if self.log_path is None:
            self.log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"ff-{self.port}.log"
        with contextlib.ExitStack() as files:
            log = files.enter_context(self.log_path.open("wb"))
            out: Any = {"log": log, "closed": subprocess.PIPE}.get(self.stdout)
            if self.stdout == "separate":
                self.stdout_path = self.log_path.with_suffix(".stdout")
                out = files.enter_context(self.stdout_path.open("wb"))
            self.process = subprocess.Popen(command, env=env, stdout=out, stderr=log, cwd=self.cwd)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.wait_ready(ready_path, timeout)
        return self

    def wait_ready(self, path: str = "/", timeout: float = 30.0) -> None:
        """Poll until the server accepts connections (bounded), or fail with its log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"functions-framework exited early:\n{self.output()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(
            f"functions-framework did not listen within {timeout}s:\n{self.output()}"
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def stdout_text(self) -> str:
        """What the process wrote to stdout (``stdout="separate"`` only)."""
        assert self.stdout_path is not None, 'start with stdout="separate"'
        return self.stdout_path.read_text()

    def log_lines(self) -> list[dict[str, Any]]:
        """Every JSON line the process wrote (stdout and stderr share the log)."""
        lines = []
        for line in self.output().splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> Reply:
        req = urllib.request.Request(
            self.url + path, data=body, method=method, headers=dict(headers or {})
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return Reply(resp.status, dict(resp.headers), resp.read())
        except urllib.error.HTTPError as err:
            return Reply(err.code, dict(err.headers), err.read())

    def post_json(self, path: str, payload: Any, timeout: float = 30.0) -> Reply:
        return self.request(
            "POST",
            path,
            json.dumps(payload).encode(),
            {"Content-Type": "application/json"},
            timeout,
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def __enter__(self) -> FunctionProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


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

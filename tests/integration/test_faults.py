"""Faults survived by the real process: a slow load, a malicious pickle, a killed worker.

The other faults are covered elsewhere: a missing, truncated, tampered or
other-scikit-learn artifact and 16 concurrent cold requests in ``test_process.py``;
a body or a batch over the limit in ``test_bad_input.py``.

A slow load is made real, not mocked: the artifact's ``manifest.json`` is a named
pipe, so the loading thread blocks reading it until the test writes the manifest.
"""

from __future__ import annotations

import errno
import http.client
import json
import os
import pickle
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from tests.helpers.processes import worker_pid
from tests.helpers.support import SETOSA, FunctionProcess, copy_bundled

pytestmark = pytest.mark.integration

PREDICT = {"features": SETOSA}
VALID = json.dumps(PREDICT).encode()


def manifest_on_a_pipe(folder: Path) -> bytes:
    """Replace the artifact's manifest with a named pipe; return the manifest's bytes."""
    path = folder / "manifest.json"
    manifest = path.read_bytes()
    path.unlink()
    os.mkfifo(path)
    return manifest


@contextmanager
def loading(folder: Path, manifest: bytes, timeout: float = 30.0) -> Iterator[None]:
    """Wait (bounded) until a loader is blocked reading the pipe; on exit, let it finish."""
    pipe = folder / "manifest.json"
    deadline = time.monotonic() + timeout
    while True:
        try:  # succeeds only once a reader has the pipe open
            writer = os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError as exc:
            if exc.errno != errno.ENXIO or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
    try:
        yield
    finally:
        os.set_blocking(writer, True)
        with suppress(BrokenPipeError):  # the reader is gone (its process was killed)
            os.write(writer, manifest)
        os.close(writer)


def a_new_worker(master: int, not_pid: int | None = None, timeout: float = 30.0) -> int:
    """The gunicorn worker serving now (polled, bounded): not ``not_pid``, if given."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            pid = worker_pid(master)
        except LookupError:  # not forked yet, or just reaped
            pid = None
        if pid is not None and pid != not_pid:
            return pid
        if time.monotonic() > deadline:
            raise TimeoutError(f"no new worker under process {master}")
        time.sleep(0.02)


def test_a_slow_load_answers_503_with_retry_after_and_never_hangs(tmp_path: Path) -> None:
    folder = copy_bundled(tmp_path / "model")
    manifest = manifest_on_a_pipe(folder)
    env = {
        "IRISSERVE_MODEL_DIR": str(folder),
        "IRISSERVE_LOAD_WAIT_SECONDS": "0.2",
        "IRISSERVE_RETRY_AFTER_SECONDS": "3",
    }
    with FunctionProcess(env=env) as process, ThreadPoolExecutor(4) as pool:
        first = pool.submit(process.post_json, "/predict", PREDICT)
        with loading(folder, manifest):
            # The load is under way and cannot finish: the next callers wait a bounded
            # time, then get a 503 that says when to come back.
            others = [pool.submit(process.post_json, "/predict", PREDICT) for _ in range(3)]
            for future in others:
                reply = future.result(timeout=30)
                assert reply.status == 503
                assert reply.json()["code"] == "model_loading"
                assert reply.headers["Retry-After"] == "3"
            info = process.request("GET", "/model-info", timeout=30)
            assert (info.status, info.json()["code"]) == (503, "model_loading")
            health = process.request("GET", "/", timeout=30)
            assert (health.status, health.json()["model_loaded"]) == (200, False)
            assert not first.done()
        # The manifest arrives: the caller that started the load gets its answer.
        assert first.result(timeout=30).status == 200
        assert process.post_json("/predict", PREDICT).status == 200


class _CreatesFile:
    """A pickle payload: unpickling it calls ``open(path, "w")``, creating the file."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (self.path, "w"))


def test_a_tampered_pickle_never_runs_in_the_server(tmp_path: Path) -> None:
    control, marker = tmp_path / "control", tmp_path / "pwned"
    pickle.loads(pickle.dumps(_CreatesFile(control))).close()
    assert control.exists()  # the payload is live: unpickled, it creates its file

    folder = copy_bundled(tmp_path / "model")
    (folder / "model.joblib").write_bytes(pickle.dumps(_CreatesFile(marker)))
    env = {"IRISSERVE_MODEL_DIR": str(folder), "IRISSERVE_SCORER": "sklearn"}
    with FunctionProcess(env=env) as process:
        for path in ("/predict", "/"):
            reply = process.post_json(path, PREDICT)
            assert reply.status == 503
            assert reply.json()["code"] == "artifact_corrupt"
            assert "model.joblib has sha256" in reply.json()["error"]
        assert process.request("GET", "/model-info").status == 503
    assert not marker.exists()


def test_a_worker_killed_mid_request_is_replaced_and_serving_resumes(tmp_path: Path) -> None:
    folder = copy_bundled(tmp_path / "model")
    manifest = manifest_on_a_pipe(folder)
    with FunctionProcess(env={"IRISSERVE_MODEL_DIR": str(folder)}) as process:
        assert process.process is not None
        master = process.process.pid
        victim = a_new_worker(master)
        connection = http.client.HTTPConnection("127.0.0.1", process.port, timeout=30)
        connection.request("POST", "/predict", VALID, {"Content-Type": "application/json"})
        with loading(folder, manifest):  # the worker is inside this request, loading
            os.kill(victim, signal.SIGKILL)
            with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
                connection.getresponse()
        connection.close()
        # gunicorn's master starts a new worker; give it a readable manifest.
        (folder / "manifest.json").unlink()
        (folder / "manifest.json").write_bytes(manifest)
        a_new_worker(master, not_pid=victim)
        reply = process.post_json("/predict", PREDICT)
        assert reply.status == 200
        assert reply.json()["prediction_label"] == "setosa"
        assert process.process.poll() is None

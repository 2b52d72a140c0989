"""Test helpers: requests, artifacts and errors around a real functions-framework process.

The process itself (``FunctionProcess`` on a free loopback port) and the repository's paths
live in ``tests.helpers.processes``, which the bench harness uses too; they are re-exported here.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from irisserve.protocols.v2 import decode
from tests.helpers.processes import BUNDLED, REPO, FunctionProcess

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

#: The bundled Iris model's features and classes, in order.
IRIS_FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
IRIS_CLASSES = ["setosa", "versicolor", "virginica"]
#: Rows the bundled model predicts as setosa (0), virginica (2) and versicolor (1).
SETOSA = [5.1, 3.5, 1.4, 0.2]
VIRGINICA = [6.5, 3.0, 5.5, 2.0]
VERSICOLOR = [5.9, 3.0, 4.2, 1.5]
#: Three rows, one per class: the input tensor of the V2 examples.
IRIS_ROWS = [SETOSA, VIRGINICA, VERSICOLOR]
NAMED_SETOSA = dict(zip(IRIS_FEATURES, SETOSA, strict=True))
NAMED_VIRGINICA = dict(zip(IRIS_FEATURES, VIRGINICA, strict=True))


def answer_floats() -> SearchStrategy[float]:
    """Hypothesis: finite floats, weighted to those whose text is written unlike ``repr``'s or
    needs every digit: subnormals, 1e-5..1e-4 and below, huge values, signed zeros."""
    from hypothesis import strategies as st  # here: bench imports this module too

    return st.one_of(
        st.floats(allow_nan=False, allow_infinity=False),
        st.floats(1e-5, 1e-4) | st.floats(-1e-4, -1e-5) | st.floats(1e-12, 1e-5),
        st.floats(5e-324, 2.2250738585072014e-308),
        st.floats(1e15, 1.7976931348623157e308),
        st.sampled_from([0.0, -0.0, 1e-4, 1e-5, 1e-7, 1e16, 5e-324, -5e-324]),
    )


def push_envelope(data: bytes, message_id: str = "m-1", **attributes: str) -> dict[str, Any]:
    """A Pub/Sub push envelope around ``data``, as a push subscription POSTs it."""
    return {
        "message": {
            "data": base64.b64encode(data).decode(),
            "attributes": attributes,
            "messageId": message_id,
            "publishTime": "2026-01-01T00:00:00.000Z",
        },
        "subscription": "projects/p/subscriptions/s",
    }


def http_answer(client: Any, body: Any) -> dict[str, Any]:
    """What ``POST /predict`` answers for ``body`` through a test client (a 200)."""
    reply = client.post("/predict", json=body)
    assert reply.status_code == 200
    answer: dict[str, Any] = reply.get_json()
    return answer


def v2_tensor(data: Any = None, **fields: Any) -> dict[str, Any]:
    """The ``input-0`` tensor of ``IRIS_ROWS`` as V2 JSON, with ``fields`` replacing its keys."""
    base = {
        "name": "input-0",
        "shape": [3, 4],
        "datatype": "FP64",
        "data": IRIS_ROWS if data is None else data,
    }
    return {**base, **fields}


def v2_binary_request(rows: Any, datatype: str = "FP64", **fields: Any) -> tuple[bytes, str]:
    """A V2 body of a numpy array in the binary tensor form, and its
    Inference-Header-Content-Length."""
    raw = rows.astype(decode.INPUT_DATATYPES[datatype]).tobytes()
    header = {
        "inputs": [
            {
                "name": "input-0",
                "shape": list(rows.shape),
                "datatype": datatype,
                "parameters": {"binary_data_size": len(raw)},
            }
        ],
        **fields,
    }
    encoded = json.dumps(header).encode()
    return encoded + raw, str(len(encoded))


def require_tools(*names: str, why: str) -> None:
    """Skip a test when a tool it needs is not on PATH, except in CI (``CI`` set): a failure."""
    import pytest  # here, not at the top: bench imports this module too

    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        message = f"{' and '.join(missing)} not installed: {why}"
        if os.environ.get("CI"):
            pytest.fail(f"CI must have {message} (see .ci/run)")
        pytest.skip(message)


def run_ok(command: Sequence[str], timeout: float = 60) -> str:
    """Run ``command`` in the repository; its stdout (it must succeed, else its stderr shows)."""
    done = subprocess.run(
        list(command), cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def run_python(script: str, *args: str, timeout: float = 60) -> str:
    """Run ``script`` in a fresh interpreter in the repository; its stdout (it must succeed)."""
    return run_ok([sys.executable, "-c", script, *args], timeout)


def package_through_the_cli(model_file: Path, train: Any, folder: Path, name: str) -> str:
    """Write ``train`` (a data frame with its target in column ``y``) to ``folder/train.csv``
    and package ``model_file`` with it by ``python -m irisserve.packaging`` into
    ``folder/out``; assert the command succeeded and return the last line it wrote to stderr."""
    train.to_csv(folder / "train.csv", index=False)
    data, out = str(folder / "train.csv"), str(folder / "out")
    command = [sys.executable, "-m", "irisserve.packaging", str(model_file), "--data", data]
    done = subprocess.run(
        [*command, "--target", "y", "--output", out, "--name", name],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    last: str = done.stderr.splitlines()[-1]
    return last


def gcloud_help_flags(command: Iterable[str]) -> set[str]:
    """The flags (without ``--``) the installed gcloud's ``COMMAND --help`` lists."""
    done = subprocess.run(
        ["gcloud", *command, "--help"],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
        env={**os.environ, "CLOUDSDK_CORE_DISABLE_PROMPTS": "1"},
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout)
    found = set()
    for negatable, name in re.findall(r"--(\[no-\])?([a-z][a-z0-9-]*)", text):
        found |= {name, f"no-{name}"} if negatable else {name}
    return found


def copy_bundled(destination: Path) -> Path:
    """A writable copy of the bundled artifact folder."""
    shutil.copytree(BUNDLED, destination)
    return destination


def model_loaded_events(process: FunctionProcess) -> list[dict[str, Any]]:
    """The ``irisserve`` fields of every ``model_loaded`` log line the process wrote."""
    return [
        line["irisserve"]
        for line in process.log_lines()
        if line.get("irisserve", {}).get("event") == "model_loaded"
    ]


def concurrent_cold_predictions(process: FunctionProcess, count: int = 16) -> list[int]:
    """Statuses of ``count`` single-row predictions released together by a barrier."""
    barrier = threading.Barrier(count)

    def call(_: int) -> int:
        barrier.wait()
        return process.post_json("/predict", {"features": SETOSA}).status

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(call, range(count)))


def edit_manifest(directory: Path, **changes: Any) -> None:
    """Rewrite fields of an artifact's manifest.json in place."""
    path = directory / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest.update(changes)
    path.write_text(json.dumps(manifest))


def break_artifact(directory: Path, how: str) -> None:
    """Damage an artifact folder the ways the fault tests need."""
    if how == "missing":
        shutil.rmtree(directory)
    elif how == "truncated":
        path = directory / "scorer.json"
        path.write_bytes(path.read_bytes()[:40])
    elif how == "tampered":
        with (directory / "model.joblib").open("ab") as handle:
            handle.write(b"\0")
    elif how == "other-sklearn":
        manifest = json.loads((directory / "manifest.json").read_text())
        edit_manifest(directory, libraries={**manifest["libraries"], "scikit-learn": "0.24.2"})
    else:
        raise ValueError(how)


BREAKAGES = {
    "missing": ("artifact_missing", "does not exist"),
    "truncated": ("artifact_corrupt", "sha256"),
    "tampered": ("artifact_corrupt", "sha256"),
    "other-sklearn": ("artifact_incompatible", "scikit-learn 0.24.2"),
}


def assert_error_body(
    status: int, content_type: str | None, body: Any, expected: int, code: str
) -> dict[str, Any]:
    """An answer is the JSON error ``{"error", "code"}`` with ``expected`` status and ``code``."""
    assert status == expected, body
    assert content_type == "application/json"
    assert set(body) == {"error", "code"}
    assert body["code"] == code
    assert isinstance(body["error"], str)
    assert body["error"]
    assert "Traceback" not in body["error"]
    error: dict[str, Any] = body
    return error


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """``assert_error_body`` for a functions-framework test client response."""
    return assert_error_body(
        response.status_code, response.mimetype, response.get_json(), status, code
    )

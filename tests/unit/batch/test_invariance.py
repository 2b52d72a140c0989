"""Same row, same answer: a row's probabilities do not depend on its batch or its route.

Random rows are scored alone (``POST /predict`` with ``"features"``) and inside batches of
many sizes through every route — native ``"instances"``, KServe V1, Open Inference V2 as
JSON and as binary tensors, a Pub/Sub push message, and the batch pipeline's
``answer_bodies``; each row's probabilities must be bit-identical to its answer alone.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from irisserve.batch.answers import answer_bodies
from irisserve.serving import state
from tests.helpers.support import IRIS_CLASSES as CLASSES
from tests.helpers.support import push_envelope, v2_binary_request, v2_tensor

SIZES = (1, 2, 7, 8, 9, 16, 64, 257, 1000)
JSON = "application/json"

Probabilities = list[list[str]]  # per row, each probability as float.hex()


def bits(rows: Any) -> Probabilities:
    return [[float(p).hex() for p in row] for row in rows]


def native(client: Any, rows: list[list[float]]) -> Probabilities:
    reply = client.post("/predict", json={"instances": rows})
    assert reply.status_code == 200, reply.get_json()
    return bits([p["probabilities"][c] for c in CLASSES] for p in reply.get_json()["predictions"])


def v1(client: Any, rows: list[list[float]]) -> Probabilities:
    reply = client.post("/v1/models/iris:predict", json={"instances": rows})
    assert reply.status_code == 200, reply.get_json()
    return bits([p["probabilities"][c] for c in CLASSES] for p in reply.get_json()["predictions"])


def _v2_request(rows: list[list[float]], binary: bool) -> tuple[bytes, dict[str, str]]:
    outputs = [{"name": "predict_proba", "parameters": {"binary_data": binary}}]
    if binary:
        body, length = v2_binary_request(np.array(rows), outputs=outputs)
        return body, {"Inference-Header-Content-Length": length}
    tensor = v2_tensor([v for row in rows for v in row], shape=[len(rows), 4])
    return json.dumps({"inputs": [tensor], "outputs": outputs}).encode(), {}


def _v2(client: Any, rows: list[list[float]], binary: bool) -> Probabilities:
    body, headers = _v2_request(rows, binary)
    reply = client.post("/v2/models/iris/infer", data=body, headers=headers, content_type=JSON)
    assert reply.status_code == 200, reply.data[:300]
    if not binary:
        return bits(np.array(reply.get_json()["outputs"][0]["data"]).reshape(len(rows), 3))
    header_length = int(reply.headers["Inference-Header-Content-Length"])
    return bits(np.frombuffer(reply.data[header_length:], dtype="<f8").reshape(len(rows), 3))


def v2_json(client: Any, rows: list[list[float]]) -> Probabilities:
    return _v2(client, rows, binary=False)


def v2_binary(client: Any, rows: list[list[float]]) -> Probabilities:
    return _v2(client, rows, binary=True)


def pubsub(client: Any, rows: list[list[float]]) -> Probabilities:
    """A push message: acknowledged at once; its result is the ``message_scored`` log line."""
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        reply = client.post(
            "/predict", json=push_envelope(json.dumps({"instances": rows}).encode())
        )
    assert reply.status_code == 200, reply.get_json()
    logged = [json.loads(line) for line in stdout.getvalue().splitlines()]
    (scored,) = [e for e in logged if e.get("irisserve", {}).get("event") == "message_scored"]
    predictions = scored["irisserve"]["result"]["predictions"]
    return bits([p["probabilities"][c] for c in CLASSES] for p in predictions)


def batch_pipeline(client: Any, rows: list[list[float]]) -> Probabilities:
    model = state.get_model(state.settings())
    outcomes = answer_bodies(model, [{"features": row} for row in rows], state.settings())
    return bits([o["probabilities"][c] for c in CLASSES] for o in outcomes if isinstance(o, dict))


ROUTES: dict[str, Callable[..., Probabilities]] = {
    "native": native,
    "v1": v1,
    "v2-json": v2_json,
    "v2-binary": v2_binary,
    "pubsub": pubsub,
    "batch-pipeline": batch_pipeline,
}


#: Every scorer the bundled artifact has: the fast export, and scikit-learn itself, which
#: irisserve.artifact.model calls one row at a time (its BLAS answers change in the last bits with
#: the batch size otherwise).
SCORERS = ["fast", "sklearn"]


@pytest.fixture(params=SCORERS)
def scorer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("IRISSERVE_SCORER", request.param)
    state.reset()
    name: str = request.param
    return name


def random_rows(seed: int, count: int) -> list[list[float]]:
    """Rows inside and well outside the training ranges, at full float precision."""
    rng = random.Random(seed)
    return [[rng.uniform(-2.0, 10.0) for _ in range(4)] for _ in range(count)]


def alone(client: Any, rows: list[list[float]]) -> Probabilities:
    answers = []
    for row in rows:
        reply = client.post("/predict", json={"features": row})
        assert reply.status_code == 200, reply.get_json()
        answers.append([reply.get_json()["probabilities"][c] for c in CLASSES])
    return bits(answers)


@pytest.mark.parametrize("route", ROUTES)
def test_each_row_answers_the_same_alone_and_in_batches_of_any_size(
    route: str, scorer: str, client: Any
) -> None:
    rows = random_rows(16, max(SIZES))
    expected = alone(client, rows)
    for size in SIZES:
        start = random.Random(size).randrange(len(rows) - size + 1)
        batch = rows[start : start + size]
        got = ROUTES[route](client, batch)
        assert got == expected[start : start + size], f"{route}, {scorer}, {size} rows"

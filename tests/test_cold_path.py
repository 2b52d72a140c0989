"""What the HTTP function's cold start imports: functions/predict/main.py and nothing heavy."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import textwrap

import pytest

from tests.helpers.processes import MAIN
from tests.helpers.support import IRIS_FEATURES, SETOSA, run_python

#: Packages the default path never needs before it answers (each costs tens of ms or more;
#: orjson, which writes every answer, is not among them: 0.8 ms on top of the cold path).
HEAVY = ("numpy", "scipy", "sklearn", "joblib", "skops", "google.cloud.pubsub", "grpc")
#: Batch scoring (the ``beam`` extra) is never on the function's path, installed or not.
BATCH = ("irisserve.batch", "apache_beam")
#: Imported on the first request under their paths (``irisserve.serving.wsgi.DEFERRED_ROUTES``).
#: Explanations (``POST /explain``, V1's ``:explain``): never imported before an explain request.
EXPLAIN = ("irisserve.protocols.explain", "irisserve.explain")
DEFERRED = (
    "irisserve.protocols.explain",
    "irisserve.explain.explainer",
    "irisserve.explain.treeshap",
    "irisserve.explain.linear",
    "irisserve.explain.export",
    "irisserve.explain.fallback",
    "irisserve.protocols.v2.routes",
    "irisserve.serving.openapi",
    "irisserve.serving.apidocs",
)


def test_importing_the_entry_points_stays_light() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(MAIN)],
        env={**os.environ, "IRISSERVE_RESULT_TOPIC": "projects/p/topics/results"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "irisserve.serving.wsgi" in imported
    assert "irisserve.protocols.v2.decode" not in imported  # V2 requests only
    assert "irisserve.protocols.v2.encode" not in imported
    assert sorted(name for name in imported if name in DEFERRED) == []
    assert sorted(name for name in imported if name.startswith(EXPLAIN)) == []
    heavy = sorted(name for name in imported if name.startswith(HEAVY))
    assert heavy == []
    assert sorted(name for name in imported if name.startswith(BATCH)) == []
    assert "irisserve.protocols.events.delivery" not in imported
    assert "irisserve.artifact.storage" not in imported  # a gs:// IRISSERVE_MODEL_DIR only
    assert not any(name.startswith("flask_swagger_ui") for name in imported)


#: Records every file opened and module imported: before and after the first prediction, then
#: after the first visit to GET /docs (which must open Swagger UI's files: the control).
FIRST_REQUESTS = textwrap.dedent(
    """
    import json, sys
    seen = []
    def record(event, args):
        if event == "open" and isinstance(args[0], str):
            seen.append(args[0])
        elif event == "import":
            seen.append("import " + args[0])
    sys.addaudithook(record)
    from functions_framework import create_app
    client = create_app(target="predict", source=sys.argv[1]).test_client()
    assert client.post("/predict", json={"features": json.loads(sys.argv[2])}).status_code == 200
    first = len(seen)
    assert client.get("/docs").status_code == 200
    assert client.get("/docs/swagger-ui.css").status_code == 200
    print(json.dumps({"prediction": seen[:first], "docs": seen[first:]}))
    """
)


def _shows_a_module(item: str, modules: tuple[str, ...]) -> bool:
    """Whether an audit record is one of ``modules``: its import, or its source file or
    cached bytecode being opened."""
    for module in modules:
        package, _, name = module.rpartition(".")
        folder = package.replace(".", "/")
        if (
            item.endswith((module, f"{folder}/{name}.py"))
            or f"{folder}/__pycache__/{name}." in item
        ):
            return True
    return False


def test_a_cold_prediction_does_not_touch_the_api_page() -> None:
    done = subprocess.run(
        [sys.executable, "-c", FIRST_REQUESTS, str(MAIN), json.dumps(SETOSA)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    seen = json.loads(done.stdout.splitlines()[-1])
    assert [item for item in seen["prediction"] if "swagger" in item] == []
    assert [item for item in seen["prediction"] if _shows_a_module(item, DEFERRED)] == []
    assert [item for item in seen["prediction"] if item.endswith("explain.npz")] == []
    assert any(_shows_a_module(item, ("irisserve.serving.apidocs",)) for item in seen["docs"])
    docs = [item for item in seen["docs"] if "swagger" in item]
    assert any(item.endswith("flask_swagger_ui/dist/VERSION") for item in docs), docs
    assert any(item.endswith("flask_swagger_ui/dist/swagger-ui.css") for item in docs), docs


_ONE_ROW = {"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP32", "data": SETOSA}]}
_BY_FEATURE = {
    "inputs": [
        {"name": name, "shape": [1], "datatype": "FP16", "data": [value]}
        for name, value in zip(IRIS_FEATURES, SETOSA, strict=True)
    ]
}


def _binary_row() -> tuple[bytes, dict[str, str]]:
    """One FP32 row as a binary tensor, binary outputs: body and headers."""
    tensor = {"name": "input-0", "shape": [1, 4], "datatype": "FP32"}
    tensor["parameters"] = {"binary_data_size": 16}
    header = json.dumps({"inputs": [tensor], "parameters": {"binary_data_output": True}})
    headers = {
        "Content-Type": "application/octet-stream",
        "Inference-Header-Content-Length": str(len(header)),
    }
    return header.encode() + struct.pack("<4f", *SETOSA), headers


_JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("path", "data", "headers"),
    [
        ("/predict", json.dumps({"features": SETOSA}).encode(), _JSON),
        ("/v1/models/iris:predict", json.dumps({"instances": [SETOSA]}).encode(), _JSON),
        ("/v2/models/iris/infer", json.dumps(_ONE_ROW).encode(), _JSON),
        (
            "/v2/models/iris/infer",
            json.dumps({**_ONE_ROW, "parameters": {"binary_data_output": True}}).encode(),
            _JSON,
        ),
        ("/v2/models/iris/infer", json.dumps(_BY_FEATURE).encode(), _JSON),
        ("/v2/models/iris/infer", *_binary_row()),
    ],
)
def test_a_cold_single_row_is_answered_without_numpy(
    path: str, data: bytes, headers: dict[str, str]
) -> None:
    script = f"""
import sys
from functions_framework import create_app
client = create_app("predict", {str(MAIN)!r}).test_client()
answer = client.post({path!r}, data={data!r}, headers={headers!r})
assert answer.status_code == 200, answer.data
print(sorted(name for name in sys.modules if name.startswith({HEAVY + EXPLAIN!r})))
"""
    assert run_python(script).strip().splitlines()[-1] == "[]"

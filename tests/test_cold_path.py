"""What the HTTP function's cold start imports: functions/predict/main.py and nothing heavy."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support import IRIS_FEATURES, MAIN, SETOSA

#: Packages the default path never needs before it answers (each costs tens of ms or more).
HEAVY = ("numpy", "scipy", "sklearn", "joblib", "skops", "orjson", "google.cloud.pubsub", "grpc")


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
    assert {"irisserve.http", "irisserve.oip", "irisserve.oip_codec"} <= imported
    heavy = sorted(name for name in imported if name.startswith(HEAVY))
    assert heavy == []
    assert "irisserve.delivery" not in imported


_ONE_ROW = {"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP32", "data": SETOSA}]}
_BY_FEATURE = {
    "inputs": [
        {"name": name, "shape": [1], "datatype": "FP16", "data": [value]}
        for name, value in zip(IRIS_FEATURES, SETOSA, strict=True)
    ]
}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/predict", {"features": SETOSA}),
        ("/v2/models/iris/infer", _ONE_ROW),
        ("/v2/models/iris/infer", {**_ONE_ROW, "parameters": {"binary_data_output": True}}),
        ("/v2/models/iris/infer", _BY_FEATURE),
    ],
)
def test_a_cold_single_row_is_answered_without_numpy(path: str, body: object) -> None:
    script = f"""
import sys
from functions_framework import create_app
client = create_app("predict", {str(MAIN)!r}).test_client()
answer = client.post({path!r}, json={body!r})
assert answer.status_code == 200, answer.data
print(sorted(name for name in sys.modules if name.startswith({HEAVY!r})))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"

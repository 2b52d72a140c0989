"""What the HTTP function's cold start imports: functions/predict/main.py and nothing heavy."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support import MAIN

#: Packages the default path never needs before it answers (each costs tens of ms or more).
HEAVY = ("numpy", "scipy", "sklearn", "joblib", "skops", "orjson", "google.cloud.pubsub", "grpc")
#: Batch scoring (the ``beam`` extra) is never on the function's path, installed or not.
BATCH = ("irisserve.batch", "apache_beam")


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
    assert sorted(name for name in imported if name.startswith(BATCH)) == []
    assert "irisserve.delivery" not in imported

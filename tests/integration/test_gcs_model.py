"""A gs:// model through the real functions-framework process and the Cloud Storage emulator.

Every fault is answered with a 503 that says what to fix and when to retry, and the
next request after the fault is fixed is served: a failed download is never cached.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from irisserve.artifact.manifest import sha256_file
from tests.helpers.gcs_emulator import FaultFront, GcsEmulator, emulator_in, new_bucket
from tests.helpers.processes import Reply, free_port
from tests.helpers.support import (
    BUNDLED,
    SETOSA,
    FunctionProcess,
    concurrent_cold_predictions,
    copy_bundled,
    model_loaded_events,
)
from training.train import train

pytestmark = pytest.mark.integration

ROWS = {"instances": [SETOSA, [6.5, 3.0, 5.5, 2.0], [5.9, 2.8, 4.4, 1.3], [7.7, 2.6, 6.9, 2.3]]}


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GcsEmulator]:
    with emulator_in(tmp_path_factory.mktemp("gcs")) as running:
        yield running


def gs_process(host: str, url: str, **env: str) -> FunctionProcess:
    return FunctionProcess(env={"STORAGE_EMULATOR_HOST": host, "IRISSERVE_MODEL_DIR": url, **env})


def assert_503(reply: Reply, code: str, *fragments: str) -> None:
    assert reply.status == 503, reply.body
    assert reply.json()["code"] == code
    for fragment in fragments:
        assert fragment in reply.json()["error"]
    assert int(reply.headers["Retry-After"]) > 0


def test_serves_what_the_bundled_folder_serves(emulator: GcsEmulator) -> None:
    bucket = new_bucket(emulator, BUNDLED)
    with FunctionProcess() as bundled:
        expected = [
            bundled.post_json("/predict", ROWS).json(),
            bundled.request("GET", "/model-info").json(),
        ]
    with gs_process(emulator.host, f"gs://{bucket}/iris") as process:
        assert process.post_json("/predict", ROWS).json() == expected[0]
        assert process.request("GET", "/model-info").json() == expected[1]
        (event,) = model_loaded_events(process)
    assert event["source"] == f"gs://{bucket}/iris"
    assert event["manifest_sha256"] == sha256_file(BUNDLED / "manifest.json")
    assert sorted(event["generations"]) == sorted(p.name for p in BUNDLED.iterdir())


def test_sixteen_concurrent_cold_requests_download_once(emulator: GcsEmulator) -> None:
    bucket = new_bucket(emulator, BUNDLED)
    with gs_process(emulator.host, f"gs://{bucket}/iris") as process:
        assert concurrent_cold_predictions(process) == [200] * 16
        assert len(model_loaded_events(process)) == 1
    for name in ("manifest.json", "scorer.json", "model.joblib"):
        assert emulator.downloads(bucket, f"iris/{name}") == 1


def test_eager_loading_fetches_at_start(emulator: GcsEmulator) -> None:
    bucket = new_bucket(emulator, BUNDLED)
    env = {"IRISSERVE_EAGER_LOAD": "1"}
    with gs_process(emulator.host, f"gs://{bucket}/iris", **env) as process:
        assert process.request("GET", "/").json()["model_loaded"] is True
        assert emulator.downloads(bucket, "iris/manifest.json") == 1


def test_a_missing_bucket_then_the_upload(emulator: GcsEmulator) -> None:
    bucket = "irisserve-created-later"
    with gs_process(emulator.host, f"gs://{bucket}/iris") as process:
        for _ in range(2):
            assert_503(
                process.post_json("/predict", {"features": SETOSA}),
                "artifact_missing",
                f"gs://{bucket}",
                "does not exist",
            )
        emulator.create_bucket(bucket)
        assert_503(
            process.post_json("/predict", {"features": SETOSA}),
            "artifact_missing",
            "no manifest.json under",
        )
        emulator.upload_folder(BUNDLED, bucket, "iris")
        assert process.post_json("/predict", {"features": SETOSA}).status == 200


@pytest.mark.parametrize(
    ("mode", "code", "fragment"),
    [
        ("deny", "artifact_forbidden", "roles/storage.objectViewer"),
        ("stall", "model_loading", "IRISSERVE_LOAD_WAIT_SECONDS"),
        ("cut", "artifact_corrupt", "cut short"),
    ],
)
def test_a_storage_fault_then_recovery(
    emulator: GcsEmulator, mode: str, code: str, fragment: str
) -> None:
    bucket = new_bucket(emulator, BUNDLED)
    with FaultFront(emulator.host).running() as front:
        front.set_mode(mode)
        env = {"IRISSERVE_LOAD_WAIT_SECONDS": "0.5", "IRISSERVE_RETRY_AFTER_SECONDS": "2"}
        with gs_process(front.host, f"gs://{bucket}/iris", **env) as process:
            reply = process.post_json("/predict", {"features": SETOSA})
            assert_503(reply, code, fragment)
            assert reply.headers["Retry-After"] == "2"
            assert process.request("GET", "/").json()["model_loaded"] is False
            front.set_mode("forward")
            assert process.post_json("/predict", {"features": SETOSA}).status == 200


def test_unreachable_storage_then_it_comes_up(emulator: GcsEmulator) -> None:
    bucket = new_bucket(emulator, BUNDLED)
    port = free_port()
    with gs_process(f"127.0.0.1:{port}", f"gs://{bucket}/iris") as process:
        assert_503(
            process.post_json("/predict", {"features": SETOSA}),
            "model_loading",
            f"127.0.0.1:{port}",
        )
        with FaultFront(emulator.host, port=port).running():
            assert process.post_json("/predict", {"features": SETOSA}).status == 200


def test_a_tampered_object_is_refused_until_restored(emulator: GcsEmulator) -> None:
    bucket = new_bucket(emulator, BUNDLED)
    original = (BUNDLED / "model.joblib").read_bytes()
    emulator.upload(bucket, "iris/model.joblib", original + b"\0")
    with gs_process(emulator.host, f"gs://{bucket}/iris") as process:
        assert_503(
            process.post_json("/predict", {"features": SETOSA}),
            "artifact_corrupt",
            "model.joblib has sha256",
        )
        emulator.upload(bucket, "iris/model.joblib", original)
        assert process.post_json("/predict", {"features": SETOSA}).status == 200


def test_a_pinned_hash_refuses_a_different_manifest(emulator: GcsEmulator, tmp_path: Path) -> None:
    train(tmp_path / "v2", model_version="2.0.0")
    bucket = new_bucket(emulator, tmp_path / "v2")
    pinned = sha256_file(BUNDLED / "manifest.json")
    other = sha256_file(tmp_path / "v2" / "manifest.json")
    env = {"IRISSERVE_MODEL_SHA256": pinned}
    with gs_process(emulator.host, f"gs://{bucket}/iris", **env) as process:
        assert_503(
            process.post_json("/predict", {"features": SETOSA}), "artifact_untrusted", pinned, other
        )
        emulator.upload_folder(copy_bundled(tmp_path / "v1"), bucket, "iris")
        reply = process.post_json("/predict", {"features": SETOSA})
        assert (reply.status, reply.json()["model_version"]) == (200, "1.0.0")

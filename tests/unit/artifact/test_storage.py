"""irisserve.artifact.storage against the real Cloud Storage emulator over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from irisserve.artifact.manifest import sha256_file
from irisserve.artifact.storage import READ_ROLE, Fetched, fetch_artifact
from irisserve.config import GcsLocation
from irisserve.errors import (
    ArtifactIntegrityError,
    ArtifactMissing,
    ConfigurationError,
    ModelUnavailable,
    StorageForbidden,
    StorageUnavailable,
    UntrustedArtifact,
)
from tests.helpers.gcs_emulator import FaultFront, GcsEmulator, emulator_in, new_bucket
from tests.helpers.processes import free_port
from tests.helpers.support import BUNDLED, copy_bundled, edit_manifest

pytestmark = pytest.mark.integration

BUNDLED_FILES = sorted(path.name for path in BUNDLED.iterdir())


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GcsEmulator]:
    with emulator_in(tmp_path_factory.mktemp("gcs")) as running:
        yield running


@pytest.fixture
def storage_host(monkeypatch: pytest.MonkeyPatch, emulator: GcsEmulator) -> str:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", emulator.host)
    return emulator.host


def fetch(url: str, tmp_path: Path, pinned_sha256: str | None = None) -> tuple[Path, Fetched]:
    destination = tmp_path / "fetched"
    destination.mkdir()
    location = GcsLocation.parse(url)
    return destination, fetch_artifact(
        location, destination, timeout=5, pinned_sha256=pinned_sha256
    )


@pytest.mark.parametrize(
    ("url", "bucket", "prefix", "text"),
    [
        ("gs://models/iris", "models", "iris", "gs://models/iris"),
        ("gs://models/team/iris/", "models", "team/iris", "gs://models/team/iris"),
        ("gs://my.models_1", "my.models_1", "", "gs://my.models_1"),
    ],
)
def test_locations_parse(url: str, bucket: str, prefix: str, text: str) -> None:
    location = GcsLocation.parse(url)
    assert (location.bucket, location.prefix, str(location)) == (bucket, prefix, text)
    assert location.object_name("manifest.json") == f"{prefix}/manifest.json".lstrip("/")


@pytest.mark.parametrize(
    "url", ["gs://", "gs://UPPER/x", "gs://a/x", "gs://ok-bucket/a//b", "s3://b/x"]
)
def test_malformed_locations_are_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="gs://BUCKET/PREFIX"):
        GcsLocation.parse(url)


@pytest.mark.usefixtures("storage_host")
def test_fetches_the_folder_byte_for_byte_with_generations(
    emulator: GcsEmulator, tmp_path: Path
) -> None:
    bucket = new_bucket(emulator, BUNDLED, prefix="team/iris")
    emulator.upload(bucket, "team/iris/notes.txt", b"not listed in the manifest")
    emulator.upload(bucket, "team/iris/old/manifest.json", b"{}")
    folder, fetched = fetch(f"gs://{bucket}/team/iris", tmp_path)
    assert sorted(path.name for path in folder.iterdir()) == BUNDLED_FILES
    for name in BUNDLED_FILES:
        assert (folder / name).read_bytes() == (BUNDLED / name).read_bytes()
    assert sorted(fetched.generations) == BUNDLED_FILES
    assert all(g.isdigit() for g in fetched.generations.values())
    assert fetched.manifest_sha256 == sha256_file(BUNDLED / "manifest.json")
    assert fetched.size == sum((BUNDLED / n).stat().st_size for n in BUNDLED_FILES)
    assert emulator.downloads(bucket, "team/iris/notes.txt") == 0


def test_the_emulator_host_may_omit_the_scheme(
    monkeypatch: pytest.MonkeyPatch, emulator: GcsEmulator, tmp_path: Path
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", emulator.host.removeprefix("http://"))
    bucket = new_bucket(emulator, BUNDLED)
    folder, _ = fetch(f"gs://{bucket}/iris", tmp_path)
    assert (folder / "manifest.json").read_bytes() == (BUNDLED / "manifest.json").read_bytes()


@pytest.mark.usefixtures("storage_host")
@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("no-bucket", "does not exist"),
        ("empty-prefix", "no manifest.json under"),
        ("file-gone", "model.joblib is listed in"),
    ],
)
def test_missing_objects_name_what_to_upload(
    emulator: GcsEmulator, tmp_path: Path, where: str, message: str
) -> None:
    bucket = new_bucket(emulator, BUNDLED)
    url = f"gs://{bucket}/iris"
    if where == "no-bucket":
        url = "gs://irisserve-no-such-bucket/iris"
    elif where == "empty-prefix":
        url = f"gs://{bucket}/elsewhere"
    else:
        emulator.delete(bucket, "iris/model.joblib")
    with pytest.raises(ArtifactMissing, match=message) as caught:
        fetch(url, tmp_path)
    assert "gcloud storage cp" in str(caught.value) or "upload it" in str(caught.value)


@pytest.mark.usefixtures("storage_host")
def test_a_pinned_hash_refuses_another_manifest_before_downloading_the_model(
    emulator: GcsEmulator, tmp_path: Path
) -> None:
    other = copy_bundled(tmp_path / "other")
    edit_manifest(other, model_version="9.9.9")
    bucket = new_bucket(emulator, other)
    pinned = sha256_file(BUNDLED / "manifest.json")
    with pytest.raises(UntrustedArtifact) as caught:
        fetch(f"gs://{bucket}/iris", tmp_path, pinned_sha256=pinned)
    assert pinned in str(caught.value)
    assert sha256_file(other / "manifest.json") in str(caught.value)
    assert emulator.downloads(bucket, "iris/model.joblib") == 0


@pytest.mark.usefixtures("storage_host")
def test_a_manifest_naming_a_path_outside_the_folder_is_refused(
    emulator: GcsEmulator, tmp_path: Path
) -> None:
    evil = copy_bundled(tmp_path / "evil")
    manifest = json.loads((evil / "manifest.json").read_text())
    edit_manifest(evil, files={**manifest["files"], "../escaped": "0" * 64})
    bucket = new_bucket(emulator, evil)
    emulator.upload(bucket, "escaped", b"outside")
    with pytest.raises(ArtifactIntegrityError, match="not a plain file name"):
        fetch(f"gs://{bucket}/iris", tmp_path)
    assert not (tmp_path / "escaped").exists()


@pytest.mark.parametrize(
    ("mode", "error", "message"),
    [
        ("deny", StorageForbidden, READ_ROLE),
        ("busy", StorageUnavailable, "answered 503"),
        ("teapot", ModelUnavailable, "answered 418"),
        ("garbage", StorageUnavailable, "not a JSON object"),
        ("odd", StorageUnavailable, "without object names"),
        ("cut", ArtifactIntegrityError, "cut short"),
        ("stall", StorageUnavailable, "unreachable or slow"),
    ],
)
def test_faults_in_front_of_storage(
    monkeypatch: pytest.MonkeyPatch,
    emulator: GcsEmulator,
    tmp_path: Path,
    mode: str,
    error: type[Exception],
    message: str,
) -> None:
    bucket = new_bucket(emulator, BUNDLED)
    with FaultFront(emulator.host).running() as front:
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", front.host)
        front.set_mode(mode)
        destination = tmp_path / "fetched"
        destination.mkdir()
        with pytest.raises(error, match=message):
            fetch_artifact(GcsLocation.parse(f"gs://{bucket}/iris"), destination, timeout=0.5)
        front.set_mode("forward")


def test_a_listing_in_pages_is_read_to_the_end(
    monkeypatch: pytest.MonkeyPatch, emulator: GcsEmulator, tmp_path: Path
) -> None:
    bucket = new_bucket(emulator, BUNDLED)
    with FaultFront(emulator.host).running() as front:
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", front.host)
        front.set_mode("paginate")
        folder, fetched = fetch(f"gs://{bucket}/iris", tmp_path)
    assert sorted(fetched.generations) == BUNDLED_FILES
    assert sorted(path.name for path in folder.iterdir()) == BUNDLED_FILES


ACCOUNT = "irisserve-runtime@p.iam.gserviceaccount.com"


def credentials_file(tmp_path: Path, token_uri: str) -> Path:
    """A service account key (a fresh RSA key) whose tokens come from ``token_uri``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    info = {
        "type": "service_account",
        "project_id": "p",
        "private_key_id": "k1",
        "private_key": key.decode(),
        "client_email": ACCOUNT,
        "client_id": "1",
        "token_uri": token_uri,
    }
    path = tmp_path / "key.json"
    path.write_text(json.dumps(info))
    return path


@pytest.mark.parametrize("issued", ["right", "wrong", "none"])
def test_credentials_are_sent_to_an_overridden_endpoint(
    monkeypatch: pytest.MonkeyPatch, emulator: GcsEmulator, tmp_path: Path, issued: str
) -> None:
    """google-auth's real refresh, against a loopback token endpoint (no emulator set)."""
    bucket = new_bucket(emulator, BUNDLED)
    with (
        FaultFront(emulator.host, token=issued).running() as issuer,
        FaultFront(emulator.host, token="right").running() as storage,
    ):
        monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
        monkeypatch.setenv("API_ENDPOINT_OVERRIDE", storage.host)
        issuer_host = f"http://127.0.0.1:{free_port()}" if issued == "none" else issuer.host
        adc = credentials_file(tmp_path, f"{issuer_host}/token")
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
        if issued == "right":
            folder, _ = fetch(f"gs://{bucket}/iris", tmp_path)
            assert sorted(path.name for path in folder.iterdir()) == BUNDLED_FILES
            assert storage.authorized == 1 + len(BUNDLED_FILES)
        elif issued == "none":
            with pytest.raises(StorageUnavailable, match="could not get an access token"):
                fetch(f"gs://{bucket}/iris", tmp_path)
        else:
            message = rf"service account {ACCOUNT} .*401: Invalid Credentials.*{READ_ROLE}"
            with pytest.raises(StorageForbidden, match=message):
                fetch(f"gs://{bucket}/iris", tmp_path)
            assert storage.authorized == 0


def test_unreachable_storage_is_unavailable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"127.0.0.1:{free_port()}")
    with pytest.raises(StorageUnavailable, match="IRISSERVE_LOAD_WAIT_SECONDS"):
        fetch("gs://irisserve-anything/iris", tmp_path)


def test_without_credentials_the_answer_says_how_to_get_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No emulator: Application Default Credentials are looked for, and none exist here.

    The metadata server is pointed at a closed loopback port, so the lookup stays local.
    """
    closed = f"127.0.0.1:{free_port()}"
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("GCE_METADATA_HOST", closed)
    monkeypatch.setenv("GCE_METADATA_IP", closed)
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    with pytest.raises(StorageForbidden, match="GOOGLE_APPLICATION_CREDENTIALS"):
        fetch("gs://irisserve-anything/iris", tmp_path)

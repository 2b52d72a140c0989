"""Fetch an artifact folder from Cloud Storage (``gs://BUCKET/PREFIX``) into a local folder.

The Cloud Storage JSON API over HTTP (the standard library's ``urllib``), with
``google-auth`` credentials imported only when a fetch needs them: measured, that
costs about half of what importing ``google-cloud-storage`` does (docs/storage.md).
``STORAGE_EMULATOR_HOST`` points it at an emulator, without credentials, and
``API_ENDPOINT_OVERRIDE`` at another endpoint, with them, as Google's clients do.
Every HTTP failure becomes an irisserve exception whose message says what to fix;
nothing fetched here is deserialised.
"""

from __future__ import annotations

import http.client
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from irisserve.artifact.manifest import MANIFEST_NAME, read_manifest, sha256_file
from irisserve.config import GcsLocation
from irisserve.errors import (
    ArtifactIntegrityError,
    ArtifactMissing,
    ConfigurationError,
    ModelUnavailable,
    StorageForbidden,
    StorageUnavailable,
)

__all__ = ["EMULATOR_ENV", "ENDPOINT_ENV", "READ_ROLE", "Fetched", "fetch_artifact"]

#: The role the runtime service account needs on the bucket to read an artifact.
READ_ROLE = "roles/storage.objectViewer"
EMULATOR_ENV = "STORAGE_EMULATOR_HOST"
ENDPOINT_ENV = "API_ENDPOINT_OVERRIDE"
_ENDPOINT = "https://storage.googleapis.com"
_SCOPE = "https://www.googleapis.com/auth/devstorage.read_only"


@dataclass(frozen=True)
class Fetched:
    """What a fetch downloaded: the manifest's sha256, each file's object generation,
    the bytes and the seconds."""

    manifest_sha256: str
    generations: dict[str, str]
    size: int
    seconds: float


class _Client:
    """Authorised GETs against the JSON API, each failure translated for one location."""

    def __init__(self, location: GcsLocation, timeout: float) -> None:
        self.location = location
        self.timeout = timeout
        emulator = os.environ.get(EMULATOR_ENV, "").strip()
        if emulator:
            self.endpoint = emulator if urlsplit(emulator).scheme else f"http://{emulator}"
            self.headers: dict[str, str] = {}
            self.principal = "the emulator's caller"
        else:
            self.endpoint = os.environ.get(ENDPOINT_ENV, "").strip() or _ENDPOINT
            self.headers, self.principal = _credentials()
        self.endpoint = self.endpoint.rstrip("/")

    def get(self, path: str, query: dict[str, str], what: str) -> bytes:
        import urllib.error
        import urllib.request  # deferred: only a gs:// model needs it

        url = f"{self.endpoint}{path}?{urlencode(query)}"
        request = urllib.request.Request(url, headers=self.headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                data: bytes = response.read()
                return data
        except urllib.error.HTTPError as exc:
            raise self._refused(exc.code, _error_message(exc), what) from exc
        except http.client.IncompleteRead as exc:
            raise ArtifactIntegrityError(
                f"the download of {what} was cut short ({len(exc.partial)} bytes received): "
                "the next request downloads it again"
            ) from exc
        except (OSError, http.client.HTTPException) as exc:  # refused, reset, timed out
            raise StorageUnavailable(
                f"Cloud Storage at {self.endpoint} is unreachable or slow: no answer for {what} "
                f"within {self.timeout:g}s ({exc}); the model is not loaded yet and the next "
                "request retries (the wait is IRISSERVE_LOAD_WAIT_SECONDS)"
            ) from exc

    def _refused(self, status: int, message: str, what: str) -> ModelUnavailable:
        bucket = self.location.bucket
        if status == 404:
            return ArtifactMissing(
                f"{what} does not exist ({message}): upload the artifact folder there "
                f"(gcloud storage cp --recursive FOLDER/* {self.location}/) or fix "
                "IRISSERVE_MODEL_DIR"
            )
        if status in (401, 403):
            return StorageForbidden(
                f"Cloud Storage refused to let {self.principal} read gs://{bucket} "
                f"({status}: {message}): grant it {READ_ROLE} on the bucket (gcloud storage "
                f"buckets add-iam-policy-binding gs://{bucket} --member=serviceAccount:EMAIL "
                f"--role={READ_ROLE})"
            )
        if status == 429 or status >= 500:
            return StorageUnavailable(
                f"Cloud Storage answered {status} for {what} ({message}); the next request retries"
            )
        return ModelUnavailable(f"Cloud Storage answered {status} for {what} ({message})")

    def list_folder(self) -> dict[str, str]:
        """The folder's files (no sub-folders): name → generation."""
        prefix = self.location.object_name("")
        found: dict[str, str] = {}
        query = {
            "prefix": prefix,
            "delimiter": "/",
            "fields": "items(name,generation),nextPageToken",
        }
        while True:
            page = _json(
                self.get(
                    f"/storage/v1/b/{quote(self.location.bucket, safe='')}/o",
                    query,
                    f"bucket gs://{self.location.bucket}",
                )
            )
            try:
                for item in page.get("items", []):
                    found[str(item["name"])[len(prefix) :]] = str(item["generation"])
            except (KeyError, TypeError) as exc:
                raise StorageUnavailable(
                    f"Cloud Storage sent a listing of gs://{self.location.bucket} without "
                    f"object names and generations ({exc!r})"
                ) from exc
            token = page.get("nextPageToken")
            if not token:
                return found
            query = {**query, "pageToken": str(token)}

    def download(self, name: str, generation: str, destination: Path) -> int:
        """Write the folder's file ``name`` (that generation) to ``destination / name``."""
        obj = self.location.object_name(name)
        path = f"/storage/v1/b/{quote(self.location.bucket, safe='')}/o/{quote(obj, safe='')}"
        query = {"alt": "media", "generation": generation}
        data = self.get(path, query, f"gs://{self.location.bucket}/{obj}")
        (destination / name).write_bytes(data)
        return len(data)


def _json(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise StorageUnavailable(
            f"Cloud Storage sent a listing that is not a JSON object: {data[:60]!r}"
        )
    return value


def _error_message(exc: Any) -> str:
    """The ``error.message`` of a JSON API error body, else the HTTP reason."""
    try:
        return str(json.loads(exc.read())["error"]["message"])
    except (ValueError, KeyError, TypeError, OSError):
        return str(exc.reason)


def _credentials() -> tuple[dict[str, str], str]:
    """An ``Authorization`` header from Application Default Credentials, and who it is."""
    try:
        import google.auth
        import google.auth.exceptions
        import google.auth.transport.requests
    except ImportError as exc:
        raise ConfigurationError(
            "a gs:// IRISSERVE_MODEL_DIR needs google-auth: install irisserve[gcs]"
        ) from exc
    try:
        credentials, _ = google.auth.default(scopes=[_SCOPE])
        credentials.refresh(google.auth.transport.requests.Request())  # type: ignore[no-untyped-call]
    except google.auth.exceptions.DefaultCredentialsError as exc:
        raise StorageForbidden(
            f"no Google credentials to read Cloud Storage with ({exc}): run on Google Cloud "
            "with a service account, or set GOOGLE_APPLICATION_CREDENTIALS"
        ) from exc
    except google.auth.exceptions.GoogleAuthError as exc:
        raise StorageUnavailable(
            f"could not get an access token for Cloud Storage ({exc}); the next request retries"
        ) from exc
    email = getattr(credentials, "service_account_email", None)
    principal = f"service account {email}" if email else "this process's credentials"
    return {"Authorization": f"Bearer {credentials.token}"}, principal


def fetch_artifact(
    location: GcsLocation, destination: Path, *, timeout: float, pinned_sha256: str | None = None
) -> Fetched:
    """Download the artifact folder at ``location`` into the existing folder ``destination``.

    The manifest comes first and is checked against ``pinned_sha256`` before any
    other file is downloaded; then exactly the files it lists, each at the
    generation the listing saw. ``timeout`` bounds every HTTP call (seconds).
    The caller verifies the files' sha256 (``irisserve.artifact.folder.open_artifact``).
    """
    started = time.perf_counter()
    client = _Client(location, timeout)
    listing = client.list_folder()
    if MANIFEST_NAME not in listing:
        raise ArtifactMissing(
            f"no {MANIFEST_NAME} under {location}/: upload an artifact folder written by "
            f"`make train` there (gcloud storage cp --recursive FOLDER/* {location}/) or fix "
            "IRISSERVE_MODEL_DIR"
        )
    size = client.download(MANIFEST_NAME, listing[MANIFEST_NAME], destination)
    manifest = read_manifest(destination, pinned_sha256)
    generations = {MANIFEST_NAME: listing[MANIFEST_NAME]}
    for name in sorted(manifest.files):
        if Path(name).name != name or name in {".", "..", MANIFEST_NAME}:
            raise ArtifactIntegrityError(f"manifest lists {name!r}, which is not a plain file name")
        if name not in listing:
            raise ArtifactMissing(
                f"{location.object_name(name)} is listed in gs://{location.bucket}/"
                f"{location.object_name(MANIFEST_NAME)} but missing from the bucket: upload it"
            )
        size += client.download(name, listing[name], destination)
        generations[name] = listing[name]
    return Fetched(
        sha256_file(destination / MANIFEST_NAME), generations, size, time.perf_counter() - started
    )

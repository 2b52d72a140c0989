"""A real Cloud Storage emulator for tests, and a front that injects the faults it cannot.

``GcsEmulator`` runs the ``gcp-storage-emulator`` package (the JSON API over HTTP,
in memory) on a free loopback port and counts the requests it logs. The emulator
has no IAM and never stalls or cuts a download, so ``FaultFront`` sits between the
function and it: it forwards every request unchanged, or answers as Cloud Storage
does when the caller lacks a role (403 with the JSON API's error body), stalls until
released, or cuts a download short after half its bytes.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, urlencode

from tests.helpers.processes import free_port

__all__ = ["FaultFront", "GcsEmulator", "emulator_in", "new_bucket"]

_PROJECT = "irisserve-test"


class GcsEmulator:
    """``python -m gcp_storage_emulator start --in-memory`` on 127.0.0.1."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.log_path = workdir / "gcs-emulator.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        """What ``STORAGE_EMULATOR_HOST`` says to reach it."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> GcsEmulator:
        command = [sys.executable, "-m", "gcp_storage_emulator", "start", "--host", "127.0.0.1"]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [*command, "--port", str(self.port), "--in-memory"], stdout=log, stderr=log
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self._call("GET", "/") == b"OK":
                    return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"the emulator did not start:\n{self.log()}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _call(
        self, method: str, path: str, body: bytes | None = None, content_type: str = ""
    ) -> bytes:
        headers = {"Content-Type": content_type} if content_type else {}
        request = urllib.request.Request(
            self.host + path, data=body, method=method, headers=headers
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            data: bytes = response.read()
            return data

    def create_bucket(self, bucket: str) -> None:
        body = json.dumps({"name": bucket}).encode()
        self._call("POST", f"/storage/v1/b?project={_PROJECT}", body, "application/json")

    def upload(self, bucket: str, name: str, data: bytes) -> None:
        query = urlencode({"uploadType": "media", "name": name})
        self._call("POST", f"/upload/storage/v1/b/{bucket}/o?{query}", data, "text/plain")

    def upload_folder(self, folder: Path, bucket: str, prefix: str) -> None:
        """Every file of ``folder`` as ``prefix/NAME``."""
        for path in sorted(folder.iterdir()):
            self.upload(bucket, f"{prefix}/{path.name}", path.read_bytes())

    def delete(self, bucket: str, name: str) -> None:
        self._call("DELETE", f"/storage/v1/b/{bucket}/o/{quote(name, safe='')}")

    def downloads(self, bucket: str, name: str) -> int:
        """How many media downloads of ``bucket/name`` the emulator has logged."""
        target = re.escape(f"/storage/v1/b/{bucket}/o/{quote(name, safe='')}?")
        pattern = re.compile(rf'"GET {target}[^ "]*alt=media')
        return len(pattern.findall(self.log()))


class FaultFront:
    """A loopback HTTP server in front of the emulator; ``mode`` says what it does now.

    ``forward`` (pass through), ``deny`` (403 as Cloud Storage words it), ``busy``
    (503), ``teapot`` (418, a status with no meaning here), ``garbage`` (200 with a body
    that is not JSON), ``odd`` (a JSON listing without names), ``paginate`` (a listing
    split in two pages), ``stall`` (hold the request until the mode changes, at most
    30 s) or ``cut`` (send a download's full Content-Length but only half its bytes,
    then close).

    With ``token`` set it is also an OAuth token endpoint (``POST /token`` answers that
    access token) and answers 401 to a request that does not carry it, as Cloud Storage
    does; ``authorized`` counts the requests that did.
    """

    def __init__(self, upstream: str, port: int | None = None, token: str | None = None) -> None:
        self.upstream = upstream
        self.port = port or free_port()
        self.token = token
        self.authorized = 0
        self.mode = "forward"
        self._changed = threading.Event()

    @property
    def host(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self._changed.set()  # releases stalled requests
        self._changed = threading.Event()

    @contextmanager
    def running(self) -> Iterator[FaultFront]:
        front = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                front._serve(self)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                grant = {"access_token": front.token, "expires_in": 3600, "token_type": "Bearer"}
                front._send(self, 200, json.dumps(grant).encode())

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._changed.set()
            server.shutdown()
            server.server_close()
            thread.join(10)

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        mode = self.mode
        if mode == "stall":
            self._changed.wait(30)
            mode = self.mode
        try:
            if self.token is not None:
                if handler.headers.get("Authorization") != f"Bearer {self.token}":
                    self._send(
                        handler, 401, json.dumps(_error(401, "Invalid Credentials")).encode()
                    )
                    return
                self.authorized += 1
            if mode in _ANSWERS:
                status, body = _ANSWERS[mode]
                self._send(handler, status, body)
                return
            status, body = self._forward(handler.path)
            if mode == "cut" and "alt=media" in handler.path:
                self._send(handler, status, body, cut=len(body) // 2)
            elif mode == "paginate" and "alt=media" not in handler.path:
                self._send(handler, status, _page(body, "pageToken=" in handler.path))
            else:
                self._send(handler, status, body)
        except OSError:  # the caller gave up and closed the connection
            pass

    def _forward(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.upstream + path, timeout=10) as upstream:
                return upstream.status, upstream.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, cut: int = -1) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body if cut < 0 else body[:cut])
        handler.wfile.flush()
        handler.close_connection = True


def _error(status: int, message: str) -> dict[str, object]:
    """A JSON API error body."""
    return {"error": {"code": status, "message": message, "errors": [{"message": message}]}}


def _page(body: bytes, second: bool) -> bytes:
    """One of two pages of a listing: the first item and a ``nextPageToken``, or the rest."""
    listing = json.loads(body)
    items = listing.get("items", [])
    if second:
        return json.dumps({**listing, "items": items[1:]}).encode()
    return json.dumps({**listing, "items": items[:1], "nextPageToken": "page-2"}).encode()


#: What a fixed-answer mode sends: the JSON API's words where it has them.
_ANSWERS = {
    "deny": (
        403,
        json.dumps(
            _error(
                403,
                "irisserve@p.iam.gserviceaccount.com does not have storage.objects.list "
                "access to the Google Cloud Storage bucket. Permission 'storage.objects.list' "
                "denied on resource (or it may not exist).",
            )
        ).encode(),
    ),
    "busy": (503, json.dumps(_error(503, "Backend Error")).encode()),
    "teapot": (418, b"I'm a teapot"),
    "garbage": (200, b"<html>a captive portal</html>"),
    "odd": (200, b'{"items": [{"title": "not an object resource"}]}'),
}


@contextmanager
def emulator_in(workdir: Path) -> Iterator[GcsEmulator]:
    """A started emulator, stopped on exit."""
    emulator = GcsEmulator(workdir).start()
    try:
        yield emulator
    finally:
        emulator.stop()


def new_bucket(emulator: GcsEmulator, folder: Path | None = None, prefix: str = "iris") -> str:
    """A fresh bucket (a unique name), holding ``folder`` under ``prefix`` if given."""
    bucket = f"irisserve-{uuid.uuid4().hex[:12]}"
    emulator.create_bucket(bucket)
    if folder is not None:
        emulator.upload_folder(folder, bucket, prefix)
    return bucket

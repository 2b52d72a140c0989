"""The real Pub/Sub emulator for tests: started on a free loopback port, driven with
the official client, stopped with its whole process group (gcloud spawns a java child).
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import pubsub_v1

from tests.helpers.processes import free_port
from tests.helpers.support import require_tools

__all__ = ["Emulator", "Received", "require_gcloud", "wait_until"]


def require_gcloud() -> str:
    """gcloud's path, with Java for its emulator. Without either: skip, except in CI (``CI``
    set), where that is a failure."""
    require_tools("gcloud", "java", why="the Pub/Sub emulator is gcloud's component, run by Java")
    return shutil.which("gcloud") or "gcloud"


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


@dataclass(frozen=True)
class Received:
    """A pulled message."""

    message_id: str
    data: bytes
    attributes: dict[str, str]


class Emulator:
    """``gcloud beta emulators pubsub start`` on 127.0.0.1, and helpers to use it."""

    def __init__(self, gcloud: str, workdir: Path, project: str = "irisserve-test") -> None:
        self.gcloud = gcloud
        self.workdir = workdir
        self.project = project
        self.port = free_port()
        self.log_path = workdir / "emulator.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._names = itertools.count()
        self.publisher: Any = None
        self.subscriber: Any = None

    @property
    def host(self) -> str:
        """What ``PUBSUB_EMULATOR_HOST`` must say."""
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> Emulator:
        data_dir = self.workdir / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            self.gcloud,
            "beta",
            "emulators",
            "pubsub",
            "start",
            f"--host-port={self.host}",
            f"--project={self.project}",
            f"--data-dir={data_dir}",
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        wait_until(self._ready, timeout, f"the Pub/Sub emulator on {self.host}")
        # The client reads PUBSUB_EMULATOR_HOST when it is built (then talks plain gRPC).
        with pytest.MonkeyPatch.context() as env:
            env.setenv("PUBSUB_EMULATOR_HOST", self.host)
            self.publisher = pubsub_v1.PublisherClient()
            self.subscriber = pubsub_v1.SubscriberClient()
        return self

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"the emulator exited early:\n{self.output()}")
        try:
            with urllib.request.urlopen(f"http://{self.host}/", timeout=1) as reply:
                return bool(reply.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        """Stop the emulator and its java child: the whole process group."""
        for client in (self.publisher, self.subscriber):
            if client is not None:
                client.transport.close()
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)

    # -- topics and subscriptions (each call makes a fresh name) -----------------------

    def _name(self, label: str) -> str:
        return f"{label}-{next(self._names)}"

    def topic(self, label: str) -> str:
        path = str(self.publisher.topic_path(self.project, self._name(label)))
        self.publisher.create_topic(name=path)
        return path

    def pull_subscription(self, topic: str) -> str:
        path = str(self.subscriber.subscription_path(self.project, self._name("pull")))
        self.subscriber.create_subscription(name=path, topic=topic)
        return path

    def push_subscription(self, topic: str, endpoint: str) -> str:
        path = str(self.subscriber.subscription_path(self.project, self._name("push")))
        self.subscriber.create_subscription(
            request={"name": path, "topic": topic, "push_config": {"push_endpoint": endpoint}}
        )
        return path

    # -- messages ------------------------------------------------------------------

    def publish(self, topic: str, messages: Iterable[tuple[bytes, dict[str, str]]]) -> list[str]:
        """Publish every ``(data, attributes)`` and return their ids, in order."""
        futures = [self.publisher.publish(topic, data, **attrs) for data, attrs in messages]
        return [str(future.result(timeout=30)) for future in futures]

    def pull(self, subscription: str) -> list[Received]:
        """What is there now (waiting a moment at most), acknowledged."""
        try:
            response = self.subscriber.pull(
                request={"subscription": subscription, "max_messages": 1000},
                timeout=2,
                retry=None,
            )
        except exceptions.DeadlineExceeded:
            return []
        received = response.received_messages
        if received:
            self.subscriber.acknowledge(
                request={"subscription": subscription, "ack_ids": [m.ack_id for m in received]}
            )
        return [
            Received(m.message.message_id, bytes(m.message.data), dict(m.message.attributes))
            for m in received
        ]

    def collect(
        self, subscription: str, key: str, wanted: Iterable[str], timeout: float
    ) -> dict[str, list[Received]]:
        """Pull until every id in ``wanted`` has arrived, grouping messages by attribute ``key``.

        Duplicates are kept (each list holds every copy); fails after ``timeout`` seconds.
        """
        missing = set(wanted)
        found: dict[str, list[Received]] = {}
        deadline = time.monotonic() + timeout
        while missing:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(missing)} messages never arrived: {sorted(missing)}")
            for message in self.pull(subscription):
                source = message.attributes.get(key, "")
                found.setdefault(source, []).append(message)
                missing.discard(source)
        return found

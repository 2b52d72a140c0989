"""Shared fixtures."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask
import pytest
from functions_framework import create_app
from hypothesis import settings

from irisserve.artifact.folder import open_artifact
from irisserve.artifact.model import Model
from irisserve.serving import state
from tests.helpers.processes import MAIN
from tests.helpers.support import BUNDLED, copy_bundled

#: tests/unit/batch needs apache-beam, which cannot share the serving lock (protobuf<7):
#: ``make test`` runs them in .venv-beam; a venv without Beam leaves them to it.
collect_ignore_glob = [] if importlib.util.find_spec("apache_beam") else ["unit/batch/*"]

# No deadline (a shared 2-core machine stalls any example now and then) and no example
# database (it would write .hypothesis/ into the checkout).
settings.register_profile("irisserve", deadline=None, database=None)
settings.load_profile("irisserve")


@pytest.fixture(autouse=True)
def _cold_loader(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts with no model in memory and no IRISSERVE_* settings."""
    for name in [name for name in os.environ if name.startswith("IRISSERVE_")]:
        monkeypatch.delenv(name)
    state.reset()
    yield
    state.reset()


@pytest.fixture
def artifact_dir(tmp_path: Path) -> Path:
    """A writable copy of the bundled artifact."""
    return copy_bundled(tmp_path / "artifact")


@pytest.fixture(scope="session")
def app() -> flask.Flask:
    """The predict function inside functions-framework's Flask app (no server)."""
    return create_app(target="predict", source=str(MAIN))


@pytest.fixture
def client(app: flask.Flask) -> flask.testing.FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def model() -> Model:
    """The bundled Iris model, opened once (``auto`` scorer)."""
    return open_artifact(BUNDLED)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The Pub/Sub emulator, started once per session on a free port (a ``tests.
    pubsub_emulator.Emulator``); skipped without gcloud or Java, except in CI."""
    from tests.helpers.pubsub_emulator import Emulator, require_gcloud  # the client is heavy

    running = Emulator(require_gcloud(), tmp_path_factory.mktemp("pubsub-emulator")).start()
    try:
        yield running
    finally:
        running.stop()

"""irisserve.serving.state: lazy, exactly once, no cached failure, bounded waits."""

from __future__ import annotations

import gc
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from irisserve.config import GcsLocation, Settings
from irisserve.errors import ArtifactIntegrityError, ArtifactMissing, ModelLoadTimeout
from irisserve.serving import state
from tests.helpers.gcs_emulator import emulator_in, new_bucket
from tests.helpers.support import BUNDLED


def test_nothing_is_loaded_until_asked() -> None:
    assert state.loaded_model() is None
    model = state.get_model(Settings())
    assert state.loaded_model() is model
    assert state.get_model(Settings()) is model
    stats = state.load_stats()
    assert stats.loads == 1
    assert stats.last_load_seconds is not None


def test_sixteen_threads_arriving_together_load_once() -> None:
    barrier = threading.Barrier(16)

    def arrive() -> object:
        barrier.wait()
        return state.get_model(Settings())

    with ThreadPoolExecutor(16) as pool:
        models = list(pool.map(lambda _: arrive(), range(16)))
    assert len({id(model) for model in models}) == 1
    assert state.load_stats().loads == 1


def test_a_failure_is_not_cached(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    settings = Settings(model_dir=folder)
    with pytest.raises(ArtifactMissing):
        state.get_model(settings)
    assert state.loaded_model() is None
    assert state.load_stats().failures == 1
    shutil.copytree(BUNDLED, folder)
    assert state.get_model(settings).version == "1.0.0"
    assert state.load_stats().loads == 1


def test_a_caller_gives_up_after_the_load_wait() -> None:
    holding = threading.Event()
    release = threading.Event()

    def hold_the_lock() -> None:
        with state._lock:
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert holding.wait(10)
        with pytest.raises(ModelLoadTimeout, match="still loading"):
            state.get_model(Settings(load_wait_seconds=0.05))
    finally:
        release.set()
        holder.join(10)
    assert state.get_model(Settings()).version == "1.0.0"


def test_the_loaded_model_is_frozen_out_of_the_collectors_way_until_reset() -> None:
    assert gc.get_freeze_count() == 0
    model = state.get_model(Settings())
    assert gc.get_freeze_count() > 0
    assert all(item is not model for item in gc.get_objects())  # the permanent generation
    state.reset()
    assert gc.get_freeze_count() == 0


def test_reset_forgets_the_model_and_counters() -> None:
    state.get_model(Settings())
    state.reset()
    assert state.loaded_model() is None
    assert state.load_stats() == state.LoadStats(loads=0, failures=0, last_load_seconds=None)


def test_a_gs_model_is_fetched_into_a_private_folder_removed_after_loading(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with emulator_in(tmp_path) as emulator:
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", emulator.host)
        bucket = new_bucket(emulator, BUNDLED)
        emulator.upload(bucket, "iris/scorer.json", b"{}")
        settings = Settings(model_dir=GcsLocation(bucket, "iris"))
        with pytest.raises(ArtifactIntegrityError, match="scorer.json has sha256"):
            state.get_model(settings)
        assert list(scratch.iterdir()) == []
        emulator.upload(bucket, "iris/scorer.json", (BUNDLED / "scorer.json").read_bytes())
        assert state.get_model(settings).version == "1.0.0"
        assert list(scratch.iterdir()) == []
    assert state.load_stats() == state.LoadStats(
        loads=1, failures=1, last_load_seconds=state.load_stats().last_load_seconds
    )

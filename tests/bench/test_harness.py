"""Smoke test of the cold/warm harness: one tiny --quick round against real processes.

No thresholds: the figures depend on the machine. It checks the harness runs end to
end and writes complete, consistent results.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from bench import harness
from bench import peers as peers_module
from bench.processes import FLOOR_MAIN, VARIANTS, compile_sources
from bench.report import METRICS
from tests.helpers.processes import MAIN, REPO

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("bench")
    argv = [
        "--quick",
        "--rounds=1",
        "--requests=20",
        "--seconds=0.2",
        "--batch-repeats=1",
        f"--output={output}",
    ]
    assert harness.main(argv) == 0
    return output


def test_writes_json_markdown_and_png(results: Path) -> None:
    for name in ("latest.json", "latest.md", "latest.png"):
        assert (results / name).stat().st_size > 0
    assert (results / "latest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_variant_has_every_metric_with_positive_numbers(results: Path) -> None:
    data = json.loads((results / "latest.json").read_text())
    assert set(data["variants"]) == {v.name for v in VARIANTS}
    for variant in data["variants"].values():
        assert set(variant["metrics"]) == {m.key for m in METRICS}
        for summary in variant["metrics"].values():
            assert summary["samples"]
            assert 0 < summary["min"] <= summary["median"] <= summary["max"]
            assert summary["ratio_to_floor"] > 0


def test_the_floor_is_its_own_unit(results: Path) -> None:
    floor = json.loads((results / "latest.json").read_text())["variants"]["floor"]
    assert {s["ratio_to_floor"] for s in floor["metrics"].values()} == {1.0}


def test_targets_and_machine_are_recorded(results: Path) -> None:
    data = json.loads((results / "latest.json").read_text())
    assert {t["metric"] for t in data["targets"]} >= {"cold_predict_ms", "batch_rows_per_s"}
    assert data["machine"]["nproc"] >= 1
    assert data["plan"]["rounds"] == 1
    table = (results / "latest.md").read_text()
    assert all(m.title in table for m in METRICS)


def test_unknown_variant_is_refused() -> None:
    with pytest.raises(SystemExit, match="unknown variants"):
        harness.main(["--variants=floor,nope", "--output=/nonexistent"])


@pytest.mark.parametrize(
    ("argv", "folder"),
    [
        ([], harness.RESULTS),
        (["--quick"], harness.SCRATCH),
        (["--rounds=2"], harness.SCRATCH),
        (["--variants=floor,lazy"], harness.SCRATCH),
        (["--quick", "--output=elsewhere"], Path("elsewhere")),
    ],
)
def test_only_the_full_run_writes_the_committed_results(argv: list[str], folder: Path) -> None:
    assert harness.output_folder(harness._parser().parse_args(argv)) == folder
    assert harness.SCRATCH.is_relative_to(harness.RESULTS.parent.parent / "build")


# --- bench.peers: the same run beside MLServer (CI has no MLServer: the floor and irisserve) --


@pytest.fixture(scope="module")
def peers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    output = tmp_path_factory.mktemp("peers")
    argv = [
        "--quick",
        "--servers=floor,irisserve",
        "--requests=20",
        "--seconds=0.2",
        "--batch-repeats=1",
        f"--output={output}",
        "--no-plot",
    ]
    assert peers_module.main(argv) == 0
    assert (output / "peers.md").read_text().count("| ") > 10
    return dict(json.loads((output / "peers.json").read_text()))


def test_peers_measure_every_request_on_the_functions(peers: dict[str, Any]) -> None:
    assert set(peers["variants"]) == {"floor", "irisserve"}
    for variant in peers["variants"].values():
        assert set(variant["metrics"]) == {m.key for m in peers_module.METRICS}
        for summary in variant["metrics"].values():
            assert 0 < summary["min"] <= summary["median"] <= summary["max"]
    # without MLServer in the run, only the targets against the floor are checked
    bases = {t.metric for t in peers_module.TARGETS if t.base == "floor"}
    assert {t["metric"] for t in peers["targets"]} == bases


def test_mlserver_lean_settings_stay_on_loopback_without_workers_or_metrics() -> None:
    lean = next(s for s in peers_module.SERVERS if s.name == "mlserver-lean")
    assert lean.mlserver is not None
    settings, model = peers_module.mlserver_settings(lean.mlserver, 8123)
    assert settings["host"] == "127.0.0.1"
    assert settings["http_port"] == 8123
    assert settings["parallel_workers"] == 0
    assert settings["metrics_endpoint"] is None
    assert Path(model["parameters"]["uri"]).is_file()


def test_peers_without_mlserver_installed_say_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="make bench-peers"):
        peers_module.main([f"--peers-bin={tmp_path}", f"--output={tmp_path}"])


def test_peer_targets_compare_with_the_named_server() -> None:
    def variant(**medians: float) -> dict[str, Any]:
        metrics = {m.key: None for m in peers_module.METRICS}
        return {"label": "x", "metrics": metrics | {k: {"median": v} for k, v in medians.items()}}

    result = {
        "variants": {
            "irisserve": variant(v2_json_rows_per_s=3.0, native_rows_per_s=1.0),
            "mlserver-lean": variant(v2_json_rows_per_s=2.0),  # no native route
        }
    }
    checked = {t["metric"]: t for t in peers_module.check_targets(result)}
    assert set(checked) == {"v2_json_rows_per_s", "native_rows_per_s"}
    assert checked["v2_json_rows_per_s"]["measured"] == 1.5
    assert checked["v2_json_rows_per_s"]["met"]
    assert checked["native_rows_per_s"]["measured"] == 0.5
    assert not checked["native_rows_per_s"]["met"]


def test_sources_are_compiled_as_an_installed_wheel_would_be() -> None:
    sources = [*(REPO / "src" / "irisserve").rglob("*.py"), MAIN, FLOOR_MAIN]
    cached = [Path(importlib.util.cache_from_source(str(path))) for path in sources]
    cached[0].unlink(missing_ok=True)  # whatever an earlier run left, this one is written now
    compile_sources()
    assert [path for path in cached if not path.is_file()] == []

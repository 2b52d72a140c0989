"""Smoke test of the cold/warm harness: one tiny --quick round against real processes.

No thresholds: the figures depend on the machine. It checks the harness runs end to
end and writes complete, consistent results.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import harness
from bench.processes import VARIANTS
from bench.report import METRICS

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

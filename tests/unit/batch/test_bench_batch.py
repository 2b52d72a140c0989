"""Smoke test of ``bench.batch``: a tiny run end to end, complete and consistent results.

No thresholds: the figures depend on the machine.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench import batch


def test_a_small_run_writes_every_figure(tmp_path: Path) -> None:
    argv = ["--rows=3000", "--files=3", "--workers=1", "--sweep-rows=600", f"--output={tmp_path}"]
    assert batch.main(argv) == 0
    data = json.loads((tmp_path / "batch.json").read_text())
    assert set(data["runs"]) == {"loop", "beam-1"}
    assert data["runs"]["beam-1"]["scored"] == data["runs"]["beam-1"]["read"] == 3000
    assert data["runs"]["beam-1"]["loads"] == 1
    for run in data["runs"].values():
        assert run["seconds"] > 0
        assert run["rows_per_s"] == round(3000 / run["seconds"])
    assert set(data["batch_sweep_rows_per_s"]) == {str(size) for size in batch.SWEEP}
    assert data["model_load_ms"] > 0
    extrapolation = data["extrapolation"]
    assert extrapolation["rows_per_s"] == extrapolation["rows_per_s_per_core"] * 10 * 4
    assert "Extrapolation (not measured)" in (tmp_path / "batch.md").read_text()


def test_the_generated_rows_are_all_valid_and_spread_over_the_files(tmp_path: Path) -> None:
    paths = batch.write_inputs(tmp_path, rows=10, files=3)
    lines = [json.loads(line) for path in paths for line in path.read_text().splitlines()]
    assert [len(path.read_text().splitlines()) for path in paths] == [4, 3, 3]
    assert sorted(line["id"] for line in lines) == list(range(10))
    assert all(len(line["features"]) == 4 for line in lines)

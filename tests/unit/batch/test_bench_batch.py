"""Smoke test of ``bench.batch``: a tiny run end to end, complete and consistent results.

No thresholds: the figures depend on the machine. DirectRunner is left out: offline it
first tries to download Prism.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import batch

RUNS = ["irisserve/FnApiRunner", "irisserve-loop", "python-peer", "beam-sklearn/FnApiRunner"]


def test_a_small_run_writes_every_figure(tmp_path: Path) -> None:
    argv = ["--rows=3000", "--files=3", "--rounds=2", f"--output={tmp_path}", "--only", *RUNS]
    assert batch.main(argv) == 0
    data = json.loads((tmp_path / "batch.json").read_text())
    assert list(data["runs"]) == RUNS
    for run in data["runs"].values():
        assert len(run["seconds"]) == 2
        assert run["rows_per_s"] == pytest.approx(3000 / run["median_seconds"], rel=1e-2)
        assert run["rows_per_cpu_s"] == pytest.approx(3000 / run["median_cpu_seconds"], rel=1e-2)
    pairs = {(item["run"], item["peer"]): item for item in data["ratios"]}
    assert set(pairs) == {
        ("irisserve/FnApiRunner", "python-peer"),
        ("irisserve/FnApiRunner", "beam-sklearn/FnApiRunner"),
        ("irisserve-loop", "python-peer"),
    }
    runs = data["runs"]
    ratio = runs["irisserve/FnApiRunner"]["rows_per_s"] / runs["python-peer"]["rows_per_s"]
    assert pairs[("irisserve/FnApiRunner", "python-peer")]["ratio"] == round(ratio, 2)
    assert data["per_core"] == runs["irisserve/FnApiRunner"]["rows_per_cpu_s"]
    assert data["model_load_ms"] > 0
    page = (tmp_path / "batch.md").read_text()
    assert "| irisserve/FnApiRunner / python-peer |" in page


def test_the_generated_rows_are_all_valid_and_spread_over_the_files(tmp_path: Path) -> None:
    paths = batch.write_inputs(tmp_path, rows=10, files=3)
    lines = [json.loads(line) for path in paths for line in path.read_text().splitlines()]
    assert [len(path.read_text().splitlines()) for path in paths] == [4, 3, 3]
    assert sorted(line["id"] for line in lines) == list(range(10))
    assert all(len(line["features"]) == 4 for line in lines)


def test_every_peer_scores_every_row_with_the_same_probabilities(tmp_path: Path) -> None:
    """The peers answer the same rows: same ids, and probabilities within 1e-12."""
    (tmp_path / "in").mkdir()
    paths = batch.write_inputs(tmp_path / "in", rows=500, files=2)
    answers = {}
    for name in ("irisserve-loop", "python-peer", "beam-sklearn/FnApiRunner"):
        out = tmp_path / name.replace("/", "-")
        out.mkdir()
        assert batch.contenders()[name](paths, out) == 500
        lines = [
            json.loads(line) for p in out.glob("*.jsonl") for line in p.read_text().splitlines()
        ]
        answers[name] = {line["id"]: line["probabilities"] for line in lines}
    reference = answers.pop("irisserve-loop")
    for got in answers.values():
        assert set(got) == set(reference)
        for row_id, probabilities in got.items():
            for name, value in probabilities.items():
                assert abs(value - reference[row_id][name]) < 1e-12

"""bench.served: one tiny --quick round of a packaged family, fast and scikit-learn, beside
the floor, through the real functions-framework."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import served


def test_a_packaged_family_is_served_both_ways_beside_the_floor(tmp_path: Path) -> None:
    argv = ["--quick", "--trees=3", "--families=boosting", "--no-plot"]
    argv += [f"--models={tmp_path / 'models'}", f"--output={tmp_path / 'out'}"]
    assert served.main(argv) == 0
    assert (tmp_path / "models" / "boosting-3" / "scorer.npz").is_file()
    result = json.loads((tmp_path / "out" / "scorers.json").read_text())
    assert list(result["variants"]) == ["floor", "boosting-fast", "boosting-sklearn"]
    for name, variant in result["variants"].items():
        for metric in served.METRICS:
            summary = variant["metrics"][metric.key]
            if name == "boosting-sklearn" and "batch" in metric.key:
                assert summary is None  # scikit-learn's path is not timed on batches
            else:
                assert summary["median"] > 0
    assert result["sklearn_in_process_rows_per_s"]["boosting"] > 0
    goals = [(t["variant"], t["metric"]) for t in result["targets"]]
    assert goals == [
        ("boosting", "cold_predict_ms"),
        ("boosting", "warm_p50_ms"),
        ("boosting", "worker_rss_mb"),
        ("boosting", "batch_rows_per_s"),
    ]
    assert all(isinstance(t["met"], bool) for t in result["targets"])
    table = (tmp_path / "out" / "scorers.md").read_text()
    assert "| boosting: warm latency p50 | ≤ 1.15x floor |" in table


def test_an_unknown_family_is_refused() -> None:
    with pytest.raises(SystemExit, match="unknown families"):
        served.main(["--quick", "--families=knn"])


def test_the_pipelines_numbers_are_packaged_as_numbers(tmp_path: Path) -> None:
    (family,) = served.package(tmp_path, 3, 20, ("pipeline",))
    schema = json.loads((family.folder / "manifest.json").read_text())["input_schema"]
    assert [(f["name"], f["type"]) for f in schema] == [
        *((f"x{i}", "numeric") for i in range(4)),
        ("x4", "categorical"),
    ]


def test_a_booster_is_served_by_the_backends_its_folder_has_beside_its_library(
    tmp_path: Path,
) -> None:
    argv = ["--quick", "--booster-trees=5", "--families=xgboost", "--no-plot"]
    argv += [f"--models={tmp_path / 'models'}", f"--output={tmp_path / 'out'}"]
    assert served.main(argv) == 0
    result = json.loads((tmp_path / "out" / "scorers.json").read_text())
    backends = result["served_by"]["xgboost"]
    files = json.loads((tmp_path / "models" / "xgboost-5" / "manifest.json").read_text())["files"]
    assert backends == (["fast", "sklearn"] if "scorer.json" in files else ["sklearn"])
    assert list(result["variants"]) == ["floor", *(f"xgboost-{b}" for b in backends)]
    assert result["variants"]["xgboost-sklearn"]["metrics"]["warm_p50_ms"]["median"] > 0
    rates = result["library_in_process_rows_per_s"]["xgboost"]
    assert set(rates) == {"every thread", "1 thread"}
    assert all(rate > 0 for rate in rates.values())

"""The capacity sweep's output: a tiny plan run end to end on the committed harness results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from capacity import report as capacity_report
from capacity.pricing import PRICES
from capacity.report import Plan, build, to_markdown, write_png
from capacity.simulation import Platform, Profile
from tests.helpers.processes import REPO

LATEST = REPO / "bench" / "results" / "latest.json"

TINY = Plan(
    rates=(1, 1000),
    steady_requests=2000,
    steady_min_s=1,
    steady_max_s=60,
    burst=Profile("step", 500, 5),
    daily=Profile("daily", 0.2, 86_400, floor=0.01),
    closed_loop_requests=2000,
)


@pytest.fixture(scope="module")
def result() -> dict:
    return build(TINY, LATEST, Platform(), PRICES, jobs=1, command="test")


def test_every_setting_runs_every_rate_and_profile(result: dict) -> None:
    steady = result["steady"]
    assert len(steady) == len(capacity_report.SETTINGS) * len(TINY.rates)
    assert {r["rate"] for r in steady} == set(TINY.rates)
    burst_settings = capacity_report.SETTINGS + capacity_report.BURST_EXTRA
    assert [r["setting"] for r in result["burst"]] == [s.name for s in burst_settings]
    assert [r["setting"] for r in result["daily"]] == [
        s.name for s in capacity_report.DAILY_SETTINGS
    ]
    for row in steady + result["burst"] + result["daily"]:
        assert row["served"] + row["rejected"] == row["offered"] > 0
        assert row["cost_usd"] > 0
        assert row["p50_ms"] <= row["p99_ms"]


def test_self_check_compares_each_variant_with_the_measurement(result: dict) -> None:
    data = json.loads(LATEST.read_text(encoding="utf-8"))
    rows = {r["variant"]: r for r in result["self_check"]}
    assert set(rows) == set(data["variants"])
    for name, row in rows.items():
        metrics = data["variants"][name]["metrics"]
        assert row["measured_c4_rps"] == metrics["throughput_c4_rps"]["median"]
        assert row["measured_c16_rps"] == metrics["throughput_c16_rps"]["median"]
        # the model's mean service time comes from the measured throughput: a simulated
        # closed loop of 2,000 requests lands within 3% of it (lognormal spread, sigma < 0.2)
        assert row["model_c4_rps"] == pytest.approx(row["measured_c4_rps"], rel=0.03)
        assert row["model_c16_rps"] == pytest.approx(row["measured_c16_rps"], rel=0.03)


def test_markdown_and_plot(result: dict, tmp_path: Path) -> None:
    text = to_markdown(result)
    for heading in ("## Steady load", "## Step burst", "## A day", "## Self-check"):
        assert heading in text
    for name in ("platform_start_s", "cpu_active", "idle_timeout_s", "cpu_idle"):
        assert f"`{name}`" in text
    png = write_png(result, tmp_path / "capacity.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_overrides_stop_with_a_message() -> None:
    with pytest.raises(SystemExit, match="NAME=VALUE"):
        capacity_report.main(["--param", "no_such_thing=1"])
    with pytest.raises(SystemExit, match="cpu_active"):
        capacity_report.main(["--price", "cpu_active=cheap"])


def test_the_command_writes_its_files_with_changed_assumptions(tmp_path: Path) -> None:
    argv = [
        "--quick",
        "--jobs=1",
        f"--output={tmp_path}",
        "--param",
        "platform_start_s=2",
        "--price",
        "cpu_idle=0.0000036",
    ]
    assert capacity_report.main(argv) == 0
    data = json.loads((tmp_path / "capacity.json").read_text(encoding="utf-8"))
    assert data["platform"]["platform_start_s"] == 2
    assert data["prices"]["cpu_idle"] == 0.0000036
    assert data["command"].endswith(" ".join(argv[3:]))
    assert "| `platform_start_s` | 2 |" in (tmp_path / "capacity.md").read_text("utf-8")
    assert (tmp_path / "capacity.png").read_bytes()[:4] == b"\x89PNG"
    cold = [r for r in data["burst"] if r["cold_fraction"] > 0.02]
    assert cold  # over 1% of the burst waits for a start: its p99 is a start, now over 2 s
    assert min(r["p99_ms"] for r in cold) > 2000

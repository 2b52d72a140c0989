"""The capacity simulator: its invariants, cases solvable by hand, and the measured inputs.

Statistical tolerances are stated where they are used; every run is seeded, so a failure
reproduces.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields, replace

import pytest

from capacity.pricing import PRICES, SOURCES, Prices
from capacity.simulation import (
    PLATFORM_SOURCES,
    Measured,
    Platform,
    Profile,
    Service,
    Setting,
    capacity_rps,
    closed_loop,
    load_measured,
    service_for,
    simulate,
)
from tests.helpers.processes import REPO

LATEST = REPO / "bench" / "results" / "latest.json"
_Z99 = 2.3263478740408408


@pytest.fixture(scope="module")
def measured() -> dict[str, Measured]:
    return load_measured(LATEST)


@pytest.fixture(scope="module")
def lazy(measured: dict[str, Measured]) -> Measured:
    return measured["lazy"]


# --- the measured inputs, read from the committed harness results ------------------------


def test_inputs_are_the_committed_harness_figures(measured: dict[str, Measured]) -> None:
    data = json.loads(LATEST.read_text(encoding="utf-8"))
    assert set(measured) == set(data["variants"]) >= {"lazy", "eager", "sklearn"}
    for name, figures in measured.items():
        metrics = data["variants"][name]["metrics"]
        samples = metrics["cold_predict_ms"]["samples"]
        assert figures.cold_start_s == pytest.approx([v / 1000 for v in samples], rel=1e-12)
        assert figures.warm_p50_s * 1000 == pytest.approx(metrics["warm_p50_ms"]["median"])
        assert figures.warm_p99_s * 1000 == pytest.approx(metrics["warm_p99_ms"]["median"])
        assert figures.throughput_c4 == metrics["throughput_c4_rps"]["median"]
        assert figures.throughput_c16 == metrics["throughput_c16_rps"]["median"]
        assert figures.batch_rows_per_s == metrics["batch_rows_per_s"]["median"]


def test_service_time_comes_from_the_measured_throughput_and_spread(lazy: Measured) -> None:
    platform = Platform()
    at4 = service_for(lazy, Setting(concurrency=4), platform)
    at16 = service_for(lazy, Setting(concurrency=16), platform)
    assert at4.mean_s == pytest.approx(1 / lazy.throughput_c4, rel=1e-12)
    assert at16.mean_s == pytest.approx(1 / lazy.throughput_c16, rel=1e-12)
    assert at4.sigma == pytest.approx(math.log(lazy.warm_p99_s / lazy.warm_p50_s) / _Z99)
    between = capacity_rps(lazy, 8)
    assert min(lazy.throughput_c4, lazy.throughput_c16) <= between
    assert between <= max(lazy.throughput_c4, lazy.throughput_c16)
    batch = service_for(lazy, Setting(concurrency=4, rows_per_request=101), platform)
    assert batch.mean_s == pytest.approx(at4.mean_s + 100 / lazy.batch_rows_per_s, rel=1e-12)
    faster = service_for(lazy, Setting(concurrency=4), replace(platform, cpu_speed_ratio=2.0))
    assert faster.mean_s == pytest.approx(at4.mean_s / 2, rel=1e-12)


def test_every_parameter_and_price_names_its_source() -> None:
    assert set(PLATFORM_SOURCES) == {f.name for f in fields(Platform)}
    assert set(SOURCES) == {f.name for f in fields(Prices)}
    for text in [*PLATFORM_SOURCES.values(), *SOURCES.values()]:
        assert "http" in text or "Assumption" in text or "NOT" in text


# --- invariants ---------------------------------------------------------------------------


def test_every_request_is_served_or_rejected(lazy: Measured) -> None:
    overloaded = Setting(max_instances=1, min_instances=1)  # 3,000 req/s on ~1,600/s
    result = simulate(overloaded, lazy, Profile("steady", 3000, 15), seed=1)
    assert result["rejected"] > 0
    assert result["served"] + result["rejected"] == result["offered"]
    burst = simulate(Setting(), lazy, Profile("step", 2000, 10), seed=1)
    assert burst["rejected"] == 0
    assert burst["served"] == burst["offered"] > 15_000


def test_more_load_never_costs_less(lazy: Measured) -> None:
    costs = [
        simulate(Setting(), lazy, Profile("steady", rate, 20), seed=2)["cost_usd"]
        for rate in (0.5, 5, 50, 500, 5000)
    ]
    assert costs == sorted(costs)
    assert len(set(costs)) == len(costs)


@pytest.mark.parametrize("variant", ["lazy", "sklearn"])
def test_more_min_instances_never_adds_cold_starts(
    measured: dict[str, Measured], variant: str
) -> None:
    burst = Profile("step", 2000, 10)
    runs = [
        simulate(Setting(variant=variant, min_instances=n), measured[variant], burst, seed=3)
        for n in range(5)
    ]
    cold = [r["cold_requests"] for r in runs]
    started = [r["instances_started"] for r in runs]
    assert cold == sorted(cold, reverse=True)
    assert started == sorted(started, reverse=True)
    assert cold[0] > 0
    assert cold[-1] == 0
    quiet = Profile("steady", 0.001, 200_000)  # gaps of 1,000 s: 94% exceed the idle timeout
    alone, kept = (
        simulate(Setting(variant=variant, min_instances=n), measured[variant], quiet, seed=3)
        for n in (0, 1)
    )
    assert alone["cold_requests"] > 0.85 * alone["served"]
    assert kept["cold_requests"] == 0


# --- cases solvable by hand ---------------------------------------------------------------

_ONE_INSTANCE = Setting(concurrency=1000, min_instances=1, max_instances=1)


@pytest.mark.parametrize(("rho", "tolerance"), [(0.5, 0.05), (0.8, 0.08)])
def test_one_instance_fixed_service_poisson_arrivals_is_md1(
    lazy: Measured, rho: float, tolerance: float
) -> None:
    """Mean wait in queue = rho D / (2 (1 - rho)) (Pollaczek-Khinchine for M/D/1).

    ~100,000 requests: over seeds 0-7 the relative error of the mean wait had a standard
    deviation of 1.3% at rho 0.5 and 2.0% at rho 0.8; the tolerances are about 4 of those.
    """
    service = Service(0.001, 0.0)
    profile = Profile("steady", rho / service.mean_s, 200)
    result = simulate(_ONE_INSTANCE, lazy, profile, service=service, seed=0)
    expected = rho * service.mean_s / (2 * (1 - rho))
    waited = result["mean_ms"] / 1000 - service.mean_s
    assert waited == pytest.approx(expected, rel=tolerance)
    assert result["mean_instances"] == 1
    assert result["cold_requests"] == result["rejected"] == 0


def test_cost_of_requests_that_never_overlap_is_exact(lazy: Measured) -> None:
    """One warm min-instance, fixed 2 ms requests never closer than the 100 ms rounding:
    each request bills 2 ms active (no rounding) or 100 ms (rounding), the rest idle."""
    import numpy as np

    service = Service(0.002, 0.0)
    profile = Profile("steady", 0.001, 200_000)
    gaps = np.diff(profile.arrivals(np.random.default_rng(4)))  # the run's own arrivals
    assert gaps.min() > 0.1  # the precondition that makes the case solvable by hand
    gib = _ONE_INSTANCE.memory_gib
    active = PRICES.cpu_active + gib * PRICES.memory_active
    idle = PRICES.cpu_idle + gib * PRICES.memory_idle
    for granularity in (0.0, 0.1):
        prices = replace(PRICES, granularity_s=granularity)
        result = simulate(_ONE_INSTANCE, lazy, profile, service=service, prices=prices, seed=4)
        served = result["served"]
        billed = served * max(service.mean_s, granularity)
        expected = billed * active + (200_000 - billed) * idle + served * PRICES.request
        assert result["billed_instance_s"] == pytest.approx(billed, rel=1e-9)
        assert result["cost_usd"] == pytest.approx(expected, rel=1e-9)
        assert result["cost_per_million"] == pytest.approx(expected / served * 1e6, rel=1e-9)


def test_closed_loop_on_a_fixed_service_time_is_exact() -> None:
    service = Service(0.001, 0.0)
    for connections in (1, 4, 16):
        result = closed_loop(service, connections, 4000)
        assert result["throughput_rps"] == pytest.approx(1000, rel=1e-9)
        assert result["p50_ms"] == pytest.approx(connections, rel=1e-9)


def test_a_cold_start_costs_platform_start_plus_a_measured_one(lazy: Measured) -> None:
    """At 1 request per 1,000 s almost every request starts an instance (the rest find the
    last one still up): its latency is the platform's start plus one of the harness's cold
    starts plus the service time."""
    platform = Platform(platform_start_s=0.5)
    service = Service(0.001, 0.0)
    result = simulate(
        Setting(), lazy, Profile("steady", 0.001, 200_000), platform=platform, service=service
    )
    assert result["cold_requests"] > 0.85 * result["served"] > 85
    low = 1000 * (0.5 + min(lazy.cold_start_s) + 0.001)
    high = 1000 * (0.5 + max(lazy.cold_start_s) + 0.001)
    assert low <= result["p50_ms"] <= result["p99_ms"] <= high * (1 + 1e-9)


def test_daily_profile_peaks_in_the_afternoon_and_troughs_at_night() -> None:
    import numpy as np

    day = Profile("daily", 100, 86_400, floor=0.01)
    rates = day.rate_at(np.array([3 * 3600.0, 15 * 3600.0]))
    assert rates.tolist() == pytest.approx([1.0, 100.0])
    arrivals = day.arrivals(np.random.default_rng(0))
    night = np.sum((arrivals > 2 * 3600) & (arrivals < 4 * 3600))
    afternoon = np.sum((arrivals > 14 * 3600) & (arrivals < 16 * 3600))
    assert afternoon > 20 * night

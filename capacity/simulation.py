"""Capacity and cost at scale: a discrete-event simulation of a Cloud Run functions service.

    python -m capacity.report                            # the sweep (make capacity)
    python -m capacity.report --param platform_start_s=2   # change an assumption

Fed by the harness's measured figures (``bench/results/latest.json``): the cold-start
samples (spawn → first predict 200), the warm latency (p50, p99 on one connection), the
throughput at 4 and 16 connections and the 10,000-row batch rate, per variant. Each
request is followed from its arrival through routing, an instance start if it meets one,
the instance's queue and its service; the autoscaler, the billing and the prices are the
platform model in ``Platform`` and ``capacity.pricing``, every figure named with its source in
``PLATFORM_SOURCES`` and ``capacity.pricing.SOURCES``. ``capacity.report`` runs the
sweep and writes ``capacity/results/capacity.{json,md,png}``.
"""

from __future__ import annotations

import heapq
import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from capacity.pricing import PRICES, Prices

__all__ = [
    "PLATFORM_SOURCES",
    "Measured",
    "Platform",
    "Profile",
    "Service",
    "Setting",
    "capacity_rps",
    "closed_loop",
    "load_measured",
    "service_for",
    "simulate",
]

_Z99 = 2.3263478740408408  # the standard normal's 0.99 quantile


@dataclass(frozen=True)
class Platform:
    """The platform model: each field is an assumption whose source is in ``PLATFORM_SOURCES``."""

    platform_start_s: float = 1.0
    autoscale_interval_s: float = 5.0
    autoscale_window_s: int = 60
    cpu_target: float = 0.6
    concurrency_target: float = 0.6
    idle_timeout_s: float = 60.0
    max_queue_wait_s: float = 10.0
    cpu_speed_ratio: float = 1.0


_AUTOSCALING = "https://cloud.google.com/run/docs/about-instance-autoscaling"

PLATFORM_SOURCES: dict[str, str] = {
    "platform_start_s": (
        "NOT PUBLISHED. Assumption: the platform needs 1 s to place an instance and start the "
        "container before our process starts (third-party reports give 0.5-2 s for a whole "
        "Python cold start: https://oneuptime.com/blog/post/2026-02-17-how-to-configure-"
        "minimum-instances-on-cloud-run-to-eliminate-cold-starts-for-production-services/view). "
        "Instance start = this + a cold start drawn from the harness's samples."
    ),
    "autoscale_interval_s": (
        f"{_AUTOSCALING} (an earlier version of the page): 'The Cloud Run autoscaler evaluates "
        "these every 5 seconds'; the current page says 'periodically'."
    ),
    "autoscale_window_s": (
        f"{_AUTOSCALING}: CPU utilisation and request concurrency are averaged 'over a one "
        "minute window'."
    ),
    "cpu_target": (
        f"{_AUTOSCALING}: 'targeting to keep scheduled instances to a 60% CPU utilization' "
        "(configurable: https://cloud.google.com/run/docs/configuring/scaling-controls)."
    ),
    "concurrency_target": (
        f"{_AUTOSCALING}: 'to keep instance concurrency at 60% of the maximum concurrency over "
        "a one minute window'."
    ),
    "idle_timeout_s": (
        "NOT PUBLISHED as a fixed figure: idle instances above the autoscaler's target 'can be "
        "shut down at any time' (https://cloud.google.com/run/docs/configuring/billing-"
        "settings); Cloud Run may keep some for up to 15 minutes. Assumption: 60 s, the "
        "pessimistic end for cold starts (idle instances cost nothing under request-based "
        "billing, so this moves cold starts, not cost)."
    ),
    "max_queue_wait_s": (
        f"{_AUTOSCALING}: at max-instances 'incoming requests can be queued for up to 10 "
        "seconds'; then the request fails with 429 (counted here as rejected)."
    ),
    "cpu_speed_ratio": (
        "Assumption: a Cloud Run vCPU runs our worker as fast as one core of the machine the "
        "harness ran on (latest.json's machine); service times are divided by this ratio."
    ),
}


@dataclass(frozen=True)
class Measured:
    """One variant's figures from the harness results file, in seconds and per second."""

    variant: str
    cold_start_s: tuple[float, ...]
    warm_p50_s: float
    warm_p99_s: float
    throughput_c4: float
    throughput_c16: float
    batch_rows_per_s: float


def load_measured(path: Path) -> dict[str, Measured]:
    """Every variant of a harness results file (``bench/results/latest.json``)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    out = {}
    for name, entry in data["variants"].items():
        metrics = entry["metrics"]
        out[name] = Measured(
            variant=name,
            cold_start_s=tuple(v / 1000 for v in metrics["cold_predict_ms"]["samples"]),
            warm_p50_s=metrics["warm_p50_ms"]["median"] / 1000,
            warm_p99_s=metrics["warm_p99_ms"]["median"] / 1000,
            throughput_c4=metrics["throughput_c4_rps"]["median"],
            throughput_c16=metrics["throughput_c16_rps"]["median"],
            batch_rows_per_s=metrics["batch_rows_per_s"]["median"],
        )
    return out


@dataclass(frozen=True)
class Service:
    """Service time on one worker: lognormal with this mean and shape (``sigma`` 0: fixed)."""

    mean_s: float
    sigma: float

    def sample(self, rng: np.random.Generator, count: int) -> np.ndarray:
        if self.sigma == 0:
            return np.full(count, self.mean_s)
        median = self.mean_s * math.exp(-(self.sigma**2) / 2)
        return rng.lognormal(math.log(median), self.sigma, count)


def capacity_rps(measured: Measured, connections: int) -> float:
    """Requests per second one worker sustains with ``connections`` in flight.

    The measured throughput at 4 connections up to 4, at 16 from 16, and log-linear between.
    """
    if connections <= 4:
        return measured.throughput_c4
    if connections >= 16:
        return measured.throughput_c16
    share = math.log(connections / 4) / math.log(4)
    return measured.throughput_c4 + share * (measured.throughput_c16 - measured.throughput_c4)


@dataclass(frozen=True)
class Setting:
    """What a deployer chooses: the variant, rows per request and the service's settings."""

    variant: str = "lazy"
    rows_per_request: int = 1
    concurrency: int = 8
    min_instances: int = 0
    max_instances: int = 100
    cpu: int = 1
    memory_gib: float = 0.5

    @property
    def name(self) -> str:
        rows = "row" if self.rows_per_request == 1 else f"batch{self.rows_per_request}"
        name = f"{self.variant} {rows} c{self.concurrency} min{self.min_instances}"
        return name if self.max_instances == 100 else f"{name} max{self.max_instances}"


def service_for(measured: Measured, setting: Setting, platform: Platform) -> Service:
    """The worker's service time for ``setting``: its mean from the measured throughput at the
    setting's concurrency (plus the batch rate for each further row), its spread from the
    single-connection p50 and p99."""
    mean = 1 / capacity_rps(measured, setting.concurrency)
    mean += (setting.rows_per_request - 1) / measured.batch_rows_per_s
    sigma = math.log(measured.warm_p99_s / measured.warm_p50_s) / _Z99
    return Service(mean / platform.cpu_speed_ratio, sigma)


@dataclass(frozen=True)
class Profile:
    """A traffic profile: ``steady`` (Poisson at ``rate``), ``step`` (0 → ``rate`` over
    ``ramp_s``, then held) or ``daily`` (a day with its peak ``rate`` at 15:00 and its trough,
    ``floor`` x peak, at 03:00), ``duration_s`` long."""

    kind: str
    rate: float
    duration_s: float
    ramp_s: float = 1.0
    floor: float = 0.01

    @property
    def name(self) -> str:
        return {
            "steady": f"steady {self.rate:g}/s",
            "step": f"step 0→{self.rate:g}/s in {self.ramp_s:g} s",
            "daily": f"daily, peak {self.rate:g}/s",
        }[self.kind]

    def rate_at(self, t: np.ndarray) -> np.ndarray:
        if self.kind == "steady":
            return np.full_like(t, self.rate)
        if self.kind == "step":
            return self.rate * np.minimum(1.0, t / self.ramp_s)
        wave = (1 - np.cos(2 * np.pi * (t - 3 * 3600) / 86_400)) / 2
        return self.rate * (self.floor + (1 - self.floor) * wave**2)

    def arrivals(self, rng: np.random.Generator) -> np.ndarray:
        """Arrival times: Poisson at the peak rate, thinned to the profile's rate."""
        expected = self.rate * self.duration_s
        count = int(expected + 6 * math.sqrt(expected) + 20)
        times = np.cumsum(rng.exponential(1 / self.rate, count))
        times = times[times < self.duration_s]
        if self.kind == "steady":
            return times
        keep = rng.random(times.size) * self.rate < self.rate_at(times)
        return times[keep]


@dataclass(slots=True)
class _Instance:
    created: float
    ready: float
    pinned: bool
    started_here: bool
    free: list[float]
    deps: list[float] = field(default_factory=list)
    removed: float = math.inf
    last_dep: float = 0.0
    billed: float = 0.0
    span_start: float = -math.inf
    span_end: float = -math.inf

    def in_flight(self, now: float) -> int:
        deps = self.deps
        while deps and deps[0] <= now:
            heapq.heappop(deps)
        return len(deps)


class _Billing:
    """Busy time of an instance, each busy span rounded up to the billing granularity."""

    def __init__(self, granularity: float) -> None:
        self.granularity = granularity

    def _rounded_end(self, inst: _Instance) -> float:
        length = inst.span_end - inst.span_start
        if self.granularity <= 0:
            return inst.span_end
        return inst.span_start + math.ceil(length / self.granularity - 1e-9) * self.granularity

    def add(self, inst: _Instance, start: float, end: float) -> None:
        if inst.span_end > -math.inf and start <= self._rounded_end(inst):
            inst.span_end = max(inst.span_end, end)
            return
        self.close(inst)
        inst.span_start, inst.span_end = start, end

    def close(self, inst: _Instance) -> None:
        if inst.span_end > inst.span_start:
            inst.billed += self._rounded_end(inst) - inst.span_start
        inst.span_start = inst.span_end = -math.inf


@dataclass
class _Run:
    """The state of one simulation run."""

    setting: Setting
    platform: Platform
    cold_start_s: tuple[float, ...]
    rng: random.Random
    duration: float
    live: list[_Instance] = field(default_factory=list)
    every: list[_Instance] = field(default_factory=list)
    busy: list[float] = field(default_factory=list)
    inflight: list[float] = field(default_factory=list)

    def start_instance(self, now: float, delay: float, *, pinned: bool = False) -> _Instance:
        inst = _Instance(
            created=now,
            ready=now + delay,
            pinned=pinned,
            started_here=delay > 0,
            free=[0.0] * self.setting.cpu,
        )
        self.live.append(inst)
        self.every.append(inst)
        return inst

    def start_delay(self) -> float:
        """Platform start plus one of the harness's cold starts, drawn at random."""
        return self.platform.platform_start_s + self.rng.choice(self.cold_start_s)

    def desired(self, busy_per_s: float, inflight_mean: float) -> int:
        setting, platform = self.setting, self.platform
        by_cpu = math.ceil(busy_per_s / (setting.cpu * platform.cpu_target) - 1e-9)
        by_concurrency = math.ceil(
            inflight_mean / (setting.concurrency * platform.concurrency_target) - 1e-9
        )
        wanted = max(by_cpu, by_concurrency, setting.min_instances)
        return min(wanted, setting.max_instances)

    def tick(self, now: float) -> None:
        """The autoscaler: CPU and concurrency over the last window → instances wanted."""
        window = self.platform.autoscale_window_s
        end = min(int(now) + window, len(self.busy))
        busy = sum(self.busy[end - window : end]) / window
        inflight = sum(self.inflight[end - window : end]) / window
        wanted = self.desired(busy, inflight)
        alive = len(self.live)
        for _ in range(wanted - alive):
            self.start_instance(now, self.start_delay())
        if wanted >= alive:
            return
        idle_since = now - self.platform.idle_timeout_s
        idle = [
            inst
            for inst in self.live
            if not inst.pinned and inst.ready <= now and inst.last_dep <= idle_since
        ]
        idle.sort(key=lambda inst: inst.last_dep)
        for inst in idle[: alive - wanted]:
            inst.removed = now
            self.live.remove(inst)

    def route(self, now: float, pick: float, pick2: float) -> tuple[_Instance, float] | None:
        """Where a request goes and when it is admitted there.

        A ready instance with a free slot (the less busy of two random picks, else any);
        otherwise the earliest slot anywhere: a running instance's next answer, a starting
        instance's readiness, or a new instance if it would be ready sooner (on-demand
        scale-out, below max-instances). ``None``: the wait would exceed the queue limit.
        """
        live, limit = self.live, self.setting.concurrency
        if live:
            count = len(live)
            first, second = live[int(pick * count)], live[int(pick2 * count)]
            load1 = first.in_flight(now) if first.ready <= now else limit
            load2 = second.in_flight(now) if second.ready <= now else limit
            if min(load1, load2) < limit:
                return (first if load1 <= load2 else second), now
        best, best_at = None, math.inf
        for inst in live:
            load = inst.in_flight(now)
            if inst.ready <= now and load < limit:
                return inst, now
            at = inst.ready if load < limit else inst.deps[0]
            if at < best_at:
                best, best_at = inst, at
        if len(live) < self.setting.max_instances:
            delay = self.start_delay()
            if now + delay < best_at:
                return self.start_instance(now, delay), now + delay
        if best is None or best_at - now > self.platform.max_queue_wait_s:
            return None
        if best.in_flight(now) >= limit:
            heapq.heappop(best.deps)  # the slot passes from the answer at best_at to this one
        return best, best_at


def _percentile(values: np.ndarray, fraction: float) -> float:
    if values.size == 0:
        return math.nan
    return float(np.quantile(values, fraction, method="inverted_cdf"))


def _instance_counts(run: _Run) -> tuple[float, int]:
    """Time-averaged and peak number of instances alive (starting or ready)."""
    events = []
    alive_seconds = 0.0
    for inst in run.every:
        end = min(inst.removed, run.duration)
        alive_seconds += max(0.0, end - inst.created)
        events += [(inst.created, 1), (end, -1)]
    events.sort()
    peak = current = 0
    for _, change in events:
        current += change
        peak = max(peak, current)
    return alive_seconds / run.duration, peak


def simulate(
    setting: Setting,
    measured: Measured,
    profile: Profile,
    *,
    platform: Platform | None = None,
    prices: Prices = PRICES,
    service: Service | None = None,
    seed: int = 0,
    warm: bool | None = None,
) -> dict[str, Any]:
    """Run ``profile`` against ``setting``; return instances, cold starts, latency and cost.

    ``warm`` (default: for steady profiles) starts from the autoscaler's steady state: the
    instances it would keep for the rate, ready, and a full window of history.
    """
    platform = platform or Platform()
    service = service or service_for(measured, setting, platform)
    warm = profile.kind == "steady" if warm is None else warm
    rng = np.random.default_rng(seed)
    arrivals = profile.arrivals(rng).tolist()
    services = service.sample(rng, len(arrivals)).tolist()
    picks = rng.random((len(arrivals), 2)).tolist()
    window = platform.autoscale_window_s
    run = _Run(
        setting,
        platform,
        measured.cold_start_s,
        random.Random(seed),
        profile.duration_s,
        busy=[0.0] * (int(profile.duration_s) + window + 2),
        inflight=[0.0] * (int(profile.duration_s) + window + 2),
    )
    initial = setting.min_instances
    if warm:
        load = profile.rate * service.mean_s
        run.busy[:window] = [load] * window
        run.inflight[:window] = [load] * window
        initial = max(initial, run.desired(load, load))
    for index in range(initial):
        run.start_instance(0.0, 0.0, pinned=index < setting.min_instances)

    billing = _Billing(prices.granularity_s)
    latencies: list[float] = []
    cold = rejected = 0
    next_tick = platform.autoscale_interval_s
    last = len(run.busy) - 1
    for now, work, (pick, pick2) in zip(arrivals, services, picks, strict=True):
        while next_tick <= now:
            run.tick(next_tick)
            next_tick += platform.autoscale_interval_s
        routed = run.route(now, pick, pick2)
        if routed is None:
            rejected += 1
            continue
        inst, admitted = routed
        begin = max(admitted, inst.ready, heapq.heappop(inst.free))
        done = begin + work
        heapq.heappush(inst.free, done)
        heapq.heappush(inst.deps, done)
        inst.last_dep = max(inst.last_dep, done)
        cold += inst.ready > now
        latencies.append(done - now)
        billing.add(inst, max(admitted, inst.ready), done)
        run.busy[min(int(begin) + window, last)] += work
        run.inflight[min(int(admitted) + window, last)] += done - admitted
    for inst in run.every:
        billing.close(inst)

    served = len(latencies)
    lat = np.asarray(latencies)
    mean_instances, peak_instances = _instance_counts(run)
    active = sum(inst.billed for inst in run.every)
    startup = sum(inst.ready - inst.created for inst in run.every if inst.started_here)
    pinned_active = sum(inst.billed for inst in run.every if inst.pinned)
    idle = max(0.0, setting.min_instances * profile.duration_s - pinned_active)
    active_rate = setting.cpu * prices.cpu_active + setting.memory_gib * prices.memory_active
    idle_rate = setting.cpu * prices.cpu_idle + setting.memory_gib * prices.memory_idle
    cost = (active + startup) * active_rate + idle * idle_rate + served * prices.request
    predictions = served * setting.rows_per_request
    return {
        "setting": setting.name,
        "profile": profile.name,
        "rate": profile.rate,
        "duration_s": profile.duration_s,
        "offered": len(arrivals),
        "served": served,
        "rejected": rejected,
        "cold_requests": cold,
        "cold_fraction": cold / served if served else 0.0,
        "instances_started": sum(inst.started_here for inst in run.every),
        "mean_instances": mean_instances,
        "peak_instances": peak_instances,
        "p50_ms": _percentile(lat, 0.50) * 1000,
        "p99_ms": _percentile(lat, 0.99) * 1000,
        "mean_ms": float(lat.mean()) * 1000 if served else math.nan,
        "billed_instance_s": active + startup,
        "idle_min_instance_s": idle,
        "cost_usd": cost,
        "cost_per_million": cost / predictions * 1e6 if predictions else math.nan,
        "capacity_rps": setting.max_instances * setting.cpu / service.mean_s,
    }


def closed_loop(
    service: Service, connections: int, requests: int, *, workers: int = 1, seed: int = 0
) -> dict[str, float]:
    """One instance driven like the harness's load generator: ``connections`` clients, each
    sending its next request as soon as its answer arrives. Throughput and latency."""
    rng = np.random.default_rng(seed)
    work = service.sample(rng, requests).tolist()
    sends = [(0.0, client) for client in range(connections)]
    free = [0.0] * workers
    latencies = []
    finished = 0.0
    for amount in work:
        sent, client = heapq.heappop(sends)
        done = max(sent, heapq.heappop(free)) + amount
        heapq.heappush(free, done)
        heapq.heappush(sends, (done, client))
        latencies.append(done - sent)
        finished = max(finished, done)
    lat = np.asarray(latencies)
    return {
        "throughput_rps": requests / finished,
        "p50_ms": _percentile(lat, 0.50) * 1000,
        "p99_ms": _percentile(lat, 0.99) * 1000,
    }

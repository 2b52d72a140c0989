"""The capacity sweep: each setting under each traffic profile, a self-check against the
measurement, and the results as ``capacity/results/capacity.{json,md,png}``.

    python -m capacity.report             # make capacity: the whole sweep
    python -m capacity.report --quick     # two rates, short runs (a few seconds)
    python -m capacity.report --param idle_timeout_s=900 --price cpu_idle=0.0000036

Every run uses the same seed, so settings and rates meet the same random draws.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from capacity import simulation
from capacity.pricing import PRICES, READ_ON, SOURCES, Prices
from capacity.simulation import Measured, Platform, Profile, Service, Setting, service_for

__all__ = [
    "DEFAULT",
    "QUICK",
    "Plan",
    "build",
    "main",
    "run",
    "self_check",
    "to_markdown",
    "write_png",
]

RESULTS = Path(__file__).resolve().parent / "results"
#: What the harness measured (``make bench``), the simulation's input.
HARNESS_RESULTS = Path(__file__).resolve().parent.parent / "bench" / "results" / "latest.json"

#: The settings compared under steady load and the burst (deploy.sh's defaults first).
SETTINGS: tuple[Setting, ...] = (
    Setting(),
    Setting(min_instances=1),
    Setting(concurrency=1),
    Setting(concurrency=80),
    Setting(variant="eager"),
    Setting(variant="sklearn"),
    Setting(variant="sklearn", min_instances=1),
    Setting(variant="sklearn", max_instances=10),
    Setting(rows_per_request=100),
)
#: More min-instances under the burst: how many it takes to absorb it without a cold start.
BURST_EXTRA: tuple[Setting, ...] = (
    Setting(min_instances=2),
    Setting(min_instances=3),
    Setting(variant="sklearn", min_instances=3),
)
#: The min-instances question over a day.
DAILY_SETTINGS: tuple[Setting, ...] = (
    Setting(),
    Setting(min_instances=1),
    Setting(variant="sklearn"),
    Setting(variant="sklearn", min_instances=1),
)


@dataclass(frozen=True)
class Plan:
    """How much to simulate: steady rates, requests per steady run, the burst and the day."""

    rates: tuple[float, ...]
    steady_requests: int
    steady_min_s: float
    steady_max_s: float
    burst: Profile
    daily: Profile
    closed_loop_requests: int


DEFAULT = Plan(
    rates=(0.01, 0.1, 1, 10, 100, 500, 1000, 3000, 10_000),
    steady_requests=30_000,
    steady_min_s=10,
    steady_max_s=86_400,
    burst=Profile("step", 2000, 30, ramp_s=1.0),
    daily=Profile("daily", 10, 86_400, floor=0.001),
    closed_loop_requests=20_000,
)
QUICK = Plan(
    rates=(0.1, 10_000),
    steady_requests=2_000,
    steady_min_s=2,
    steady_max_s=3_600,
    burst=Profile("step", 2000, 5, ramp_s=1.0),
    daily=Profile("daily", 0.5, 86_400, floor=0.001),
    closed_loop_requests=2_000,
)


def steady_profile(rate: float, plan: Plan) -> Profile:
    """Long enough for ``plan.steady_requests`` requests, within the plan's limits."""
    seconds = min(plan.steady_max_s, max(plan.steady_min_s, plan.steady_requests / rate))
    return Profile("steady", rate, seconds)


def _task(args: tuple[Setting, Measured, Profile, Platform, Prices, int]) -> dict[str, Any]:
    setting, measured, profile, platform, prices, seed = args
    return simulation.simulate(
        setting, measured, profile, platform=platform, prices=prices, seed=seed
    )


def self_check(
    measured: dict[str, Measured], platform: Platform, requests: int, seed: int = 0
) -> list[dict[str, Any]]:
    """One simulated instance driven like the harness (1, 4 and 16 connections, back to
    back) against what the harness measured.

    ``model``: the service time the capacity runs use (its mean from the measured
    throughput, so its throughput matches by construction: this checks the queueing code).
    ``latency_only``: a service time fitted to the single-connection p50 and p99 alone,
    which predicts the throughput independently.
    """
    rows = []
    for name, figures in measured.items():
        fitted = service_for(figures, Setting(variant=name, concurrency=1), platform)
        latency_only = Service(
            figures.warm_p50_s * math.exp(fitted.sigma**2 / 2) / platform.cpu_speed_ratio,
            fitted.sigma,
        )
        row: dict[str, Any] = {"variant": name}
        for connections, key in ((1, None), (4, "throughput_c4"), (16, "throughput_c16")):
            model = service_for(figures, Setting(variant=name, concurrency=connections), platform)
            sim = simulation.closed_loop(model, connections, requests, seed=seed)
            alone = simulation.closed_loop(latency_only, connections, requests, seed=seed)
            if key is None:
                row["measured_p50_ms"] = figures.warm_p50_s * 1000
                row["measured_p99_ms"] = figures.warm_p99_s * 1000
                row["model_p50_ms"] = sim["p50_ms"]
                row["model_p99_ms"] = sim["p99_ms"]
                continue
            row[f"measured_c{connections}_rps"] = getattr(figures, key)
            row[f"model_c{connections}_rps"] = sim["throughput_rps"]
            row[f"latency_only_c{connections}_rps"] = alone["throughput_rps"]
            row[f"model_c{connections}_p99_ms"] = sim["p99_ms"]
        rows.append(row)
    return rows


def run(
    plan: Plan,
    measured: dict[str, Measured],
    platform: Platform,
    prices: Prices,
    *,
    seed: int = 0,
    jobs: int = 2,
) -> dict[str, list[dict[str, Any]]]:
    """Every steady rate, the burst and the day for their settings (in ``jobs`` processes)."""
    groups = {
        "steady": [(s, steady_profile(r, plan)) for s in SETTINGS for r in plan.rates],
        "burst": [(s, plan.burst) for s in SETTINGS + BURST_EXTRA],
        "daily": [(s, plan.daily) for s in DAILY_SETTINGS],
    }
    tasks = [
        (setting, measured[setting.variant], profile, platform, prices, seed)
        for pairs in groups.values()
        for setting, profile in pairs
    ]
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(_task, tasks))
    else:
        results = [_task(task) for task in tasks]
    out: dict[str, list[dict[str, Any]]] = {}
    start = 0
    for name, pairs in groups.items():
        out[name] = results[start : start + len(pairs)]
        start += len(pairs)
    return out


def _num(value: float) -> str:
    if math.isnan(value):
        return "—"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if value >= 0.1 else f"{value:.3f}"


def _pct(part: float, whole: float) -> str:
    return f"{100 * (part / whole - 1):+.1f}%"


def _share(value: float) -> str:
    return f"{value:.1%}" if value else "0"


def _pivot(rows: list[dict[str, Any]], key: str, title: str, show: Any = _num) -> list[str]:
    settings = list(dict.fromkeys(r["setting"] for r in rows))
    rates = list(dict.fromkeys(r["rate"] for r in rows))
    cells = {(r["setting"], r["rate"]): r for r in rows}
    lines = [
        f"**{title}**",
        "",
        "| req/s | " + " | ".join(settings) + " |",
        "| ---: |" + " ---: |" * len(settings),
    ]
    for rate in rates:
        values = []
        for setting in settings:
            row = cells[(setting, rate)]
            text = show(row[key])
            if row["rejected"]:
                text += f" ({row['rejected'] / row['offered']:.0%} rejected)"
            if row["rate"] > row["capacity_rps"]:
                text += " (over max-instances' capacity: grows with time)"
            values.append(text)
        lines.append(f"| {rate:,g} | " + " | ".join(values) + " |")
    return [*lines, ""]


def _events_table(rows: list[dict[str, Any]], per_day: bool) -> list[str]:
    head = (
        "| setting | instances started | instances mean / peak | requests that met a cold "
        "start | p50 ms | p99 ms | rejected | " + ("$ for the day | " if per_day else "")
    ) + "$ per million predictions |"
    lines = [head, "| --- |" + " ---: |" * (head.count("|") - 2)]
    for r in rows:
        cells = [
            r["setting"],
            f"{r['instances_started']}",
            f"{r['mean_instances']:.1f} / {r['peak_instances']}",
            f"{r['cold_requests']:,} ({r['cold_fraction']:.2%})",
            _num(r["p50_ms"]),
            _num(r["p99_ms"]),
            f"{r['rejected']:,}",
            *([f"{r['cost_usd']:.2f}"] if per_day else []),
            _num(r["cost_per_million"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def _self_check_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| variant | connections | measured | model (diff) | latency-only fit (diff) | "
        "model p99 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['variant']} | 1 | p50 {_num(r['measured_p50_ms'])} ms, p99 "
            f"{_num(r['measured_p99_ms'])} ms | p50 {_num(r['model_p50_ms'])} "
            f"({_pct(r['model_p50_ms'], r['measured_p50_ms'])}), p99 "
            f"{_num(r['model_p99_ms'])} ({_pct(r['model_p99_ms'], r['measured_p99_ms'])}) | "
            f"— | {_num(r['model_p99_ms'])} |"
        )
        for c in (4, 16):
            measured = r[f"measured_c{c}_rps"]
            model, alone = r[f"model_c{c}_rps"], r[f"latency_only_c{c}_rps"]
            lines.append(
                f"| {r['variant']} | {c} | {measured:,.0f} req/s | {model:,.0f} "
                f"({_pct(model, measured)}) | {alone:,.0f} ({_pct(alone, measured)}) | "
                f"{_num(r[f'model_c{c}_p99_ms'])} (not measured) |"
            )
    return [*lines, ""]


def _sources_table(values: dict[str, Any], sources: dict[str, str]) -> list[str]:
    lines = ["| parameter | value | source |", "| --- | ---: | --- |"]
    lines += [f"| `{name}` | {values[name]:g} | {sources[name]} |" for name in sources]
    return [*lines, ""]


LIMITS = (
    "- The network: client ↔ Google front end ↔ instance round trips, TLS, and the body "
    "transfer of large batches (the harness measured over loopback; its client-side times "
    "include loopback HTTP, nothing more).",
    "- The platform's own queueing and routing beyond the rule written here (the real "
    "router's algorithm and its request buffer are not published).",
    "- Regional capacity, quota limits, instance placement failures, and the brief "
    "over-shoot of max-instances the documentation allows during surges.",
    "- Startup CPU boost, the 10 s shutdown grace, health checks, and instance recycling.",
    "- CPU speed on Cloud Run (one vCPU is taken as one core of the harness machine: "
    "`cpu_speed_ratio`), and threads contending for the GIL beyond what the 4- and "
    "16-connection throughputs capture; a request is served FIFO by the one worker.",
    "- Requests of other shapes than the harness's (one Iris row, or a batch interpolated "
    "between one row and the measured 10,000-row rate), and retries after a 429.",
    "- The free tier (2 million requests, 180,000 vCPU-s, 360,000 GiB-s a month) and "
    "committed-use discounts: figures are marginal list prices.",
)


def to_markdown(result: dict[str, Any]) -> str:
    """The results as Markdown: steady pivots, burst and day tables, self-check, sources."""
    inputs = result["inputs"]
    lines = [
        "# Capacity and cost at scale (simulated)",
        "",
        f"Discrete-event simulation (`capacity/simulation.py`) fed by `{inputs['path']}` "
        "(harness run "
        f"of {inputs['started_at']}, {inputs['machine']}). Prices read on {READ_ON}, Tier 1 "
        "list prices, no free tier. Command: "
        f"`{result['command']}` ({result['duration_seconds']} s).",
        "",
        "## Steady load",
        "",
        "The service at the autoscaler's steady state for each rate (Poisson arrivals). "
        "Settings are `variant rows cConcurrency minMin-instances` (max-instances 100 unless "
        "`maxN`), 1 vCPU, 512 MiB.",
        "",
    ]
    steady = result["steady"]
    lines += _pivot(steady, "cost_per_million", "$ per million predictions")
    lines += _pivot(steady, "p99_ms", "p99 latency, ms")
    lines += _pivot(steady, "cold_fraction", "requests that met a cold start", _share)
    lines += _pivot(steady, "mean_instances", "instances (mean)")
    lines += ["## Step burst", "", f"Profile: {result['burst'][0]['profile']}, "]
    lines[-1] += f"{result['burst'][0]['duration_s']:g} s, starting from min-instances."
    lines += ["", *_events_table(result["burst"], per_day=False)]
    lines += ["## A day", "", f"Profile: {result['daily'][0]['profile']} (trough at 03:00, "]
    lines[-1] += "0.1% of the peak; peak at 15:00), 24 h simulated."
    lines += ["", *_events_table(result["daily"], per_day=True)]
    lines += [
        "## Self-check against the measurement",
        "",
        "One simulated instance driven like the harness: 1 connection (latency) and 4 and 16 "
        "back-to-back connections (throughput). *model* is the service time the runs above "
        "use: its mean comes from the measured throughput, so its throughput agrees by "
        "construction and the check is of the queueing code and of the latency shape. "
        "*latency-only fit* predicts throughput from the single-connection p50 and p99 "
        "alone: the difference is what the measurement adds. The harness measures no p99 "
        "under 4 or 16 connections, so those are the model's alone.",
        "",
        *_self_check_table(result["self_check"]),
        "## Parameters and their sources",
        "",
        *_sources_table(result["platform"], simulation.PLATFORM_SOURCES),
        *_sources_table(result["prices"], SOURCES),
        "## Not modelled",
        "",
        *LIMITS,
        "",
    ]
    return "\n".join(lines)


def write_png(result: dict[str, Any], path: Path) -> Path:
    """Cost per million predictions and p99 against steady load, one line per setting
    (matplotlib, through ``bench.plot``)."""
    from bench.plot import plt, save_png

    figure, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    settings = list(dict.fromkeys(r["setting"] for r in result["steady"]))
    for index, setting in enumerate(settings):
        rows = [r for r in result["steady"] if r["setting"] == setting]
        rates = [r["rate"] for r in rows]
        style = {"marker": "os^vD<>ph"[index % 9], "linestyle": ("-", "--", ":")[index % 3]}
        axes[0].plot(rates, [r["cost_per_million"] for r in rows], label=setting, **style)
        axes[1].plot(rates, [r["p99_ms"] for r in rows], label=setting, **style)
    for axis, title in zip(axes, ("$ per million predictions", "p99 latency (ms)"), strict=True):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("requests per second (steady)")
        axis.set_title(title, fontsize=10)
        axis.grid(True, which="both", alpha=0.3)
    axes[1].legend(fontsize=7)
    figure.suptitle(
        "Cloud Run functions, simulated from the harness's measurement (capacity/simulation.py)",
        fontsize=10,
    )
    return save_png(figure, path)


def _overrides(pairs: list[str], cls: type, what: str) -> dict[str, float]:
    names = {f.name: f.type for f in fields(cls)}
    out: dict[str, float] = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in names or not value:
            raise SystemExit(f"--{what} {pair!r}: expected NAME=VALUE, NAME one of {sorted(names)}")
        try:
            out[name] = int(value) if names[name] == "int" else float(value)
        except ValueError as exc:
            raise SystemExit(f"--{what} {pair!r}: {exc}") from exc
    return out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=HARNESS_RESULTS)
    parser.add_argument("--output", type=Path, default=RESULTS, help="folder for capacity.*")
    parser.add_argument("--quick", action="store_true", help="two rates, short runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--param", action="append", default=[], help="Platform NAME=VALUE")
    parser.add_argument("--price", action="append", default=[], help="Prices NAME=VALUE")
    parser.add_argument("--no-plot", action="store_true", help="skip capacity.png")
    return parser


def build(
    plan: Plan,
    results: Path,
    platform: Platform,
    prices: Prices,
    *,
    seed: int = 0,
    jobs: int = 2,
    command: str = "",
) -> dict[str, Any]:
    """The whole result: inputs, parameters, every run and the self-check."""
    data = json.loads(results.read_text(encoding="utf-8"))
    measured = simulation.load_measured(results)
    started = time.monotonic()
    shown = results.resolve()
    if shown.is_relative_to(Path.cwd()):
        shown = shown.relative_to(Path.cwd())
    result: dict[str, Any] = {
        "command": command,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "inputs": {
            "path": str(shown),
            "started_at": data.get("started_at"),
            "machine": f"{data['machine']['nproc']} x {data['machine']['cpu']}",
            "measured": {name: asdict(m) for name, m in measured.items()},
        },
        "platform": asdict(platform),
        "prices": asdict(prices),
        **run(plan, measured, platform, prices, seed=seed, jobs=jobs),
        "self_check": self_check(measured, platform, plan.closed_loop_requests, seed),
    }
    result["duration_seconds"] = round(time.monotonic() - started, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    args = _parser().parse_args(argv)
    platform = replace(Platform(), **_overrides(args.param, Platform, "param"))
    prices = replace(PRICES, **_overrides(args.price, Prices, "price"))
    words = sys.argv[1:] if argv is None else argv
    result = build(
        QUICK if args.quick else DEFAULT,
        args.results,
        platform,
        prices,
        seed=args.seed,
        jobs=args.jobs,
        command=shlex.join(["python", "-m", "capacity.report", *words]),
    )
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "capacity.json").write_text(json.dumps(result, indent=1) + "\n", "utf-8")
    markdown = to_markdown(result)
    (args.output / "capacity.md").write_text(markdown, encoding="utf-8")
    if not args.no_plot:
        write_png(result, args.output / "capacity.png")
    print(markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

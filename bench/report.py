"""Summarise the harness's samples: medians, min-max, ratios to the floor, targets, Markdown."""

from __future__ import annotations

import json
import os
import platform
import statistics
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

__all__ = [
    "METRICS",
    "TARGETS",
    "Metric",
    "Target",
    "check",
    "machine",
    "summarise",
    "to_markdown",
    "write",
]


@dataclass(frozen=True)
class Metric:
    """One measured figure: its key, what it is, its unit and which way is better."""

    key: str
    title: str
    unit: str
    higher_is_better: bool = False


METRICS: tuple[Metric, ...] = (
    Metric("cold_predict_ms", "spawn → first predict 200", "ms"),
    Metric("cold_health_ms", "spawn → first GET / 200", "ms"),
    Metric("cold_v1_ms", "spawn → first KServe V1 200", "ms"),
    Metric("cold_v2_json_ms", "spawn → first V2 JSON 200", "ms"),
    Metric("cold_v2_binary_ms", "spawn → first V2 binary 200", "ms"),
    Metric("warm_p50_ms", "warm latency p50", "ms"),
    Metric("warm_p99_ms", "warm latency p99", "ms"),
    Metric("throughput_c4_rps", "throughput, 4 connections", "req/s", higher_is_better=True),
    Metric("throughput_c16_rps", "throughput, 16 connections", "req/s", higher_is_better=True),
    Metric("worker_rss_mb", "worker peak RSS, single rows", "MiB"),
    Metric("worker_rss_batch_mb", "worker peak RSS, after 10k batches", "MiB"),
    Metric("batch_rows_per_s", "10,000-row batch, end to end", "rows/s", higher_is_better=True),
    Metric(
        "v2_batch_rows_per_s",
        "10,000-row V2 binary batch, end to end",
        "rows/s",
        higher_is_better=True,
    ),
)


@dataclass(frozen=True)
class Target:
    """A goal for the default (lazy) variant: a ratio, a difference or an absolute floor."""

    metric: str
    kind: str  # "ratio_max", "ratio_min", "over_floor_max" or "absolute_min"
    limit: float

    def describe(self) -> str:
        return {
            "ratio_max": f"≤ {self.limit:g}x floor",
            "ratio_min": f"≥ {self.limit:g}x floor",
            "over_floor_max": f"≤ floor + {self.limit:g} MiB",
            "absolute_min": f"≥ {self.limit:,.0f}",
        }[self.kind]


TARGETS: tuple[Target, ...] = (
    Target("cold_predict_ms", "ratio_max", 1.15),
    Target("cold_v1_ms", "ratio_max", 1.15),
    Target("cold_v2_json_ms", "ratio_max", 1.15),
    Target("cold_v2_binary_ms", "ratio_max", 1.15),
    Target("warm_p50_ms", "ratio_max", 1.10),
    Target("throughput_c4_rps", "ratio_min", 0.90),
    Target("throughput_c16_rps", "ratio_min", 0.90),
    Target("worker_rss_mb", "over_floor_max", 12.0),
    Target("batch_rows_per_s", "absolute_min", 1_000_000),
    Target("v2_batch_rows_per_s", "absolute_min", 5_000_000),
)


def _version(distribution: str) -> str | None:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def machine() -> dict[str, Any]:
    """What the run ran on: cores, CPU model, Python, library versions, load."""
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "libraries": {
            name: _version(name)
            for name in ("functions-framework", "gunicorn", "flask", "numpy", "scikit-learn")
        },
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
    }


def _summary(values: list[float]) -> dict[str, Any]:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "samples": values,
    }


def check(target: Target, lazy: dict[str, Any], floor: dict[str, Any]) -> dict[str, Any]:
    value = lazy[target.metric]["median"]
    base = floor[target.metric]["median"]
    measured = {
        "ratio_max": value / base,
        "ratio_min": value / base,
        "over_floor_max": value - base,
        "absolute_min": value,
    }[target.kind]
    met = measured <= target.limit if target.kind.endswith("_max") else measured >= target.limit
    return {
        "metric": target.metric,
        "target": target.describe(),
        "measured": measured,
        "met": met,
    }


def summarise(
    samples: dict[str, dict[str, list[float]]],
    labels: dict[str, str],
    run: dict[str, Any],
    metrics: tuple[Metric, ...] = METRICS,
) -> dict[str, Any]:
    """Medians, min-max and ratios to the floor for every variant; the targets for ``lazy``.

    A metric a variant has no samples of (a request it does not support) is ``None``."""
    variants: dict[str, Any] = {}
    for name, measured in samples.items():
        variants[name] = {
            "label": labels[name],
            "metrics": {
                m.key: _summary(measured[m.key]) if measured.get(m.key) else None for m in metrics
            },
        }
    floor = variants.get("floor")
    for entry in variants.values():
        for key, summary in entry["metrics"].items():
            base = floor["metrics"][key] if floor else None
            if summary is not None:
                summary["ratio_to_floor"] = summary["median"] / base["median"] if base else None
    targets = []
    if floor and "lazy" in variants:
        targets = [check(t, variants["lazy"]["metrics"], floor["metrics"]) for t in TARGETS]
    return {**run, "variants": variants, "targets": targets}


def _number(value: float) -> str:
    if value >= 10_000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}"


def _cell(summary: dict[str, Any] | None) -> str:
    if summary is None:
        return "n/a"
    spread = f"{_number(summary['min'])}-{_number(summary['max'])}"
    ratio = summary.get("ratio_to_floor")
    shown = f" · **{ratio:.2f}x**" if ratio is not None else ""
    return f"{_number(summary['median'])} ({spread}){shown}"


def to_markdown(result: dict[str, Any], metrics: tuple[Metric, ...] = METRICS) -> str:
    """The table: one row per metric, one column per variant, median (min-max) · ratio."""
    names = list(result["variants"])
    header = ["metric", *(result["variants"][n]["label"] for n in names)]
    lines = [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join(["---"] * len(header)) + " |",
    ]
    for metric in metrics:
        cells = [_cell(result["variants"][n]["metrics"][metric.key]) for n in names]
        lines.append(f"| {metric.title} ({metric.unit}) | " + " | ".join(cells) + " |")
    if result["targets"]:
        lines += [
            "",
            f"| target ({result.get('target_label', 'irisserve lazy')}) | goal | measured | met |",
            "| --- | --- | --- | --- |",
        ]
        titles = {m.key: m.title for m in metrics}
        for target in result["targets"]:
            shown = target["measured"]
            text = f"{shown:,.0f}" if shown >= 1000 else f"{shown:.2f}"
            name = titles[target["metric"]]
            if "variant" in target:  # targets of several variants in one table
                name = f"{target['variant']}: {name}"
            lines.append(
                f"| {name} | {target['target']} | {text} | {'yes' if target['met'] else '**no**'} |"
            )
    plan = result["plan"]
    lines += [
        "",
        f"Median (min-max) of {plan['rounds']} rounds · ratio of the medians to the floor. "
        f"Command: `{result['command']}`.",
    ]
    return "\n".join(lines) + "\n"


def write(
    result: dict[str, Any],
    output: Path,
    stem: str = "latest",
    metrics: tuple[Metric, ...] = METRICS,
) -> tuple[Path, Path]:
    """Write ``<stem>.json`` and ``<stem>.md`` into ``output``."""
    output.mkdir(parents=True, exist_ok=True)
    json_path = output / f"{stem}.json"
    json_path.write_text(json.dumps(result, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    md_path = output / f"{stem}.md"
    md_path.write_text(to_markdown(result, metrics), encoding="utf-8")
    return json_path, md_path

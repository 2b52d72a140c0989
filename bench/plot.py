"""The PNGs: the harness's (one panel per metric, a bar per variant with its min-max range)
and the capacity sweep's (cost and p99 against load, a line per setting).

matplotlib is a development dependency only; it is imported here and nowhere else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from bench.report import METRICS, Metric

__all__ = ["write_capacity_png", "write_png"]

_COLOURS = {
    "floor": "#9e9e9e",
    "lazy": "#1b7837",
    "irisserve": "#1b7837",
    "eager": "#2166ac",
    "sklearn": "#b2182b",
    "mlserver": "#b2182b",
    "mlserver-lean": "#ef8a62",
}


def write_png(
    result: dict[str, Any],
    path: Path,
    metrics: tuple[Metric, ...] = METRICS,
    title: str = "irisserve vs the functions-framework floor",
) -> Path:
    """Draw every metric of ``result`` (from ``bench.report.summarise``) into ``path``; a
    variant without a metric (a request it does not support) has no bar there."""
    columns = 3
    rows = -(-len(metrics) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.2 * rows))
    for axis, metric in zip(axes.flat, metrics, strict=False):
        names = [n for n in result["variants"] if result["variants"][n]["metrics"][metric.key]]
        summaries = [result["variants"][n]["metrics"][metric.key] for n in names]
        medians = [s["median"] for s in summaries]
        below = [s["median"] - s["min"] for s in summaries]
        above = [s["max"] - s["median"] for s in summaries]
        bars = axis.bar(
            names,
            medians,
            yerr=[below, above],
            capsize=4,
            color=[_COLOURS.get(n, "#666666") for n in names],
        )
        for bar, summary in zip(bars, summaries, strict=True):
            ratio = summary.get("ratio_to_floor")
            if ratio is not None:
                axis.annotate(
                    f"{ratio:.2f}x",
                    (bar.get_x() + bar.get_width() / 2, summary["max"]),
                    ha="center",
                    va="bottom",
                    fontsize=8,
                    xytext=(0, 2),
                    textcoords="offset points",
                )
        if max(medians) > 20 * min(medians):  # e.g. the floor's batch rate: show every bar
            axis.set_yscale("log")
        better = "higher is better" if metric.higher_is_better else "lower is better"
        axis.set_title(f"{metric.title}\n({metric.unit}, {better})", fontsize=9)
        axis.tick_params(labelsize=8)
        if len(names) > 5:  # long variant names would run into each other
            axis.tick_params(axis="x", labelrotation=35)
            plt.setp(axis.get_xticklabels(), ha="right", rotation_mode="anchor")
        axis.margins(y=0.15)
    for axis in list(axes.flat)[len(metrics) :]:
        axis.set_visible(False)
    info = result["machine"]
    figure.suptitle(
        f"{title} — {info['nproc']} x {info['cpu']}, "
        f"Python {info['python']}; median, min-max bars, ratio to the floor",
        fontsize=10,
    )
    return _save(figure, path)


def _save(figure: Any, path: Path) -> Path:
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def write_capacity_png(result: dict[str, Any], path: Path) -> Path:
    """Cost per million predictions and p99 against steady load, one line per setting
    (``result`` from ``capacity.report.build``)."""
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
    return _save(figure, path)

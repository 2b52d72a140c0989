"""The harness's PNG (one panel per metric, a bar per variant with its min-max range), and
``save_png``, which ``capacity.report`` draws its plot with too.

matplotlib is a development dependency only; it is imported here (``plt``) and nowhere else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from bench.report import METRICS, Metric

__all__ = ["plt", "save_png", "write_png"]

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
    return save_png(figure, path)


def save_png(figure: Any, path: Path) -> Path:
    """Lay ``figure`` out, write it to ``path`` and close it."""
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path

"""The PNG: one panel per metric, a bar per variant (median) with its min-max range.

matplotlib is a development dependency only; it is imported here and nowhere else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from bench.report import METRICS

__all__ = ["write_png"]

_COLOURS = {"floor": "#9e9e9e", "lazy": "#1b7837", "eager": "#2166ac", "sklearn": "#b2182b"}


def write_png(result: dict[str, Any], path: Path) -> Path:
    """Draw every metric of ``result`` (from ``bench.report.summarise``) into ``path``."""
    names = list(result["variants"])
    columns = 3
    rows = -(-len(METRICS) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.2 * rows))
    for axis, metric in zip(axes.flat, METRICS, strict=False):
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
        axis.margins(y=0.15)
    for axis in list(axes.flat)[len(METRICS) :]:
        axis.set_visible(False)
    info = result["machine"]
    figure.suptitle(
        f"irisserve vs the functions-framework floor — {info['nproc']} x {info['cpu']}, "
        f"Python {info['python']}; median, min-max bars, ratio to the floor",
        fontsize=10,
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path

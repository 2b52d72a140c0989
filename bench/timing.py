"""In-process timings shared by the in-process benches (``bench.scorers``, ``bench.boosters``)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

__all__ = ["best", "cold"]


def cold(
    script: str, folder: str, row: list[Any], way: str, repeats: int, timeout: float
) -> tuple[float, float]:
    """Best milliseconds to the first answer, and the peak RSS in MiB, of ``way``: ``script``
    run ``repeats`` times in a fresh Python with ``folder``, ``row`` (JSON) and ``way`` as its
    arguments, printing its seconds and its peak RSS in KiB."""
    best_seconds, rss = math.inf, 0.0
    for _ in range(repeats):
        done = subprocess.run(
            [sys.executable, "-c", script, folder, json.dumps(row), way],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
        seconds, kib = done.stdout.split()
        best_seconds, rss = min(best_seconds, float(seconds)), max(rss, int(kib) / 1024)
    return best_seconds * 1000, rss


def best(function: Callable[[], Any], repeats: int) -> float:
    """The fewest seconds ``function`` took over ``repeats`` calls."""
    fastest = math.inf
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        fastest = min(fastest, time.perf_counter() - started)
    return fastest

"""In-process: the pickle-free scorers against scikit-learn, per family.

``python -m bench.scorers`` fits the issue's representative models on synthetic data
(a scaler + one-hot + LogisticRegression pipeline, a 100-tree RandomForestClassifier, a
100-stage GradientBoostingRegressor, a HistGradientBoostingClassifier), exports them, and
prints for each: 10,000-row batch rates (fast path vs scikit-learn's own predict_proba /
predict), the single-row time of each, and the largest relative difference. Figures
depend on the machine: nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from irisserve.scorers import FastScorer, export, load

__all__ = ["Row", "main", "measure"]


@dataclass(frozen=True)
class Row:
    """One family's figures."""

    family: str
    fast_rows_per_s: float
    sklearn_rows_per_s: float
    fast_single_us: float
    sklearn_single_us: float
    max_relative_difference: float
    labels_equal: bool


def _best(function: Callable[[], Any], repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def _models(trees: int, rng: np.random.Generator) -> list[tuple[str, Any, Any]]:
    """(family, fitted estimator, training table) per family."""
    numbers = rng.normal(size=(2000, 4))
    mixed = np.empty((2000, 5), dtype=object)
    mixed[:, :4] = numbers
    mixed[:, 4] = np.array(["north", "south", "east", "west"], dtype=object)[
        rng.integers(0, 4, 2000)
    ]
    labels = (numbers[:, 0] + numbers[:, 1] * numbers[:, 2] > 0).astype(int)
    labels += mixed[:, 4] == "east"
    values = numbers @ [1.0, 2.0, -1.0, 0.5] + np.sin(numbers[:, 3]) + 10.0
    pipeline = make_pipeline(
        ColumnTransformer([("n", StandardScaler(), [0, 1, 2, 3]), ("c", OneHotEncoder(), [4])]),
        LogisticRegression(max_iter=1000),
    )
    return [
        ("pipeline (scaler + one-hot + LogisticRegression)", pipeline.fit(mixed, labels), mixed),
        (
            f"RandomForestClassifier ({trees} trees)",
            RandomForestClassifier(n_estimators=trees, random_state=0).fit(numbers, labels),
            numbers,
        ),
        (
            f"GradientBoostingRegressor ({trees} stages)",
            GradientBoostingRegressor(n_estimators=trees, random_state=0).fit(numbers, values),
            numbers,
        ),
        (
            "HistGradientBoostingClassifier",
            HistGradientBoostingClassifier(max_iter=trees, random_state=0).fit(numbers, labels),
            numbers,
        ),
    ]


def _input(table: Any) -> Any:
    return table.tolist() if table.dtype == object else np.asarray(table, dtype=np.float64)


def measure(family: str, estimator: Any, table: Any, repeats: int) -> Row:
    """One family's figures on ``table``."""
    scorer: FastScorer = load(export(estimator))
    regression = not hasattr(estimator, "classes_")
    reference: Callable[[Any], Any] = estimator.predict if regression else estimator.predict_proba
    rows = _input(table)
    scores = scorer.score_rows(rows)
    ours = np.asarray(scores.values if regression else scores.probabilities)
    expected = reference(table)
    nonzero = expected != 0
    difference = np.abs(ours - expected)[nonzero] / np.abs(expected[nonzero])
    labels_equal = regression or bool(
        np.array_equal(estimator.classes_[scores.labels], estimator.predict(table))
    )
    one, one_table = table[:1].tolist(), table[:1]
    return Row(
        family=family,
        fast_rows_per_s=len(table) / _best(lambda: scorer.score_rows(rows), repeats),
        sklearn_rows_per_s=len(table) / _best(lambda: reference(table), repeats),
        fast_single_us=_best(lambda: scorer.score_rows(one), repeats * 20) * 1e6,
        sklearn_single_us=_best(lambda: reference(one_table), repeats * 20) * 1e6,
        max_relative_difference=float(difference.max()) if difference.size else 0.0,
        labels_equal=labels_equal,
    )


def markdown(rows: list[Row]) -> str:
    """The figures as a Markdown table."""
    lines = [
        "| family | fast rows/s | scikit-learn rows/s | fast 1 row µs | scikit-learn 1 row µs "
        "| max rel. diff | labels equal |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    lines += [
        f"| {r.family} | {r.fast_rows_per_s:,.0f} | {r.sklearn_rows_per_s:,.0f} "
        f"| {r.fast_single_us:,.0f} | {r.sklearn_single_us:,.0f} "
        f"| {r.max_relative_difference:.1e} | {'yes' if r.labels_equal else 'NO'} |"
        for r in rows
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure every family and print the table (``--json`` for machine-readable)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="rows in the batch")
    parser.add_argument("--trees", type=int, default=100, help="trees / stages / iterations")
    parser.add_argument("--repeats", type=int, default=5, help="best of this many runs")
    parser.add_argument("--json", action="store_true", help="print JSON instead")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    results = []
    for family, estimator, table in _models(args.trees, rng):
        batch = table[rng.integers(0, len(table), args.rows)].copy()
        if batch.dtype != object:
            batch += rng.normal(scale=0.01, size=batch.shape)  # rows not seen in training
        results.append(measure(family, estimator, batch, args.repeats))
    print(json.dumps([asdict(r) for r in results], indent=2) if args.json else markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

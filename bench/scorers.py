"""In-process: the pickle-free scorers against scikit-learn, per family.

``python -m bench.scorers`` fits the issue's representative models on synthetic data
(a scaler + one-hot + LogisticRegression pipeline, a 100-tree RandomForestClassifier, a
100-stage GradientBoostingRegressor, a HistGradientBoostingClassifier), exports them, and
prints for each: 10,000-row batch rates (fast path vs scikit-learn's own predict_proba /
predict), the single-row time of each, the largest relative difference, and — in a
fresh Python process — the time from the first import to the first answer (import, load,
one row) and the process's peak RSS, for the export and for ``joblib.load`` + scikit-learn.
Then the same for an XGBoost and a LightGBM classifier (``bench.boosters``: a few hundred
trees, 30 features) as irisserve serves them (saying which backend did), beside the
library's own booster with every thread and with one.
Figures depend on the machine: nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import joblib
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

from bench import boosters
from bench.processes import compile_sources
from bench.timing import best as _best
from bench.timing import cold
from irisserve.scorers.fast import FastScorer, export, load

__all__ = ["Row", "main", "measure", "models"]


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
    fast_cold_ms: float
    sklearn_cold_ms: float
    fast_rss_mib: float
    sklearn_rss_mib: float


#: A fresh process: from its first import to its first answer, then its peak RSS (KiB;
#: ``VmHWM``, as ``ru_maxrss`` keeps the parent's peak across ``exec``).
_COLD = """
import json, sys, time
started = time.perf_counter()
folder, row, way = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
if way == "fast":
    from pathlib import Path
    from irisserve.scorers.fast import load
    files = {p.name: p.read_bytes() for p in Path(folder).glob("scorer.*")}
    load(files).score_rows([row])
else:
    import joblib, numpy
    model = joblib.load(folder + "/model.joblib")
    table = numpy.array([row], dtype=object if any(type(c) is str for c in row) else float)
    getattr(model, way)(table)
elapsed = time.perf_counter() - started
status = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]  # peak RSS, KiB
print(elapsed, status)
"""


def _cold(folder: str, row: list[Any], way: str, repeats: int) -> tuple[float, float]:
    """Best milliseconds to the first answer, and the peak RSS in MiB, of ``way``."""
    return cold(_COLD, folder, row, way, repeats, timeout=120)


def models(trees: int, rng: np.random.Generator) -> list[tuple[str, Any, Any]]:
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
    with tempfile.TemporaryDirectory() as folder:
        for name, data in export(estimator).items():
            (Path(folder) / name).write_bytes(data)
        joblib.dump(estimator, Path(folder) / "model.joblib")
        fast_cold, fast_rss = _cold(folder, one[0], "fast", repeats)
        way = "predict" if regression else "predict_proba"
        sklearn_cold, sklearn_rss = _cold(folder, one[0], way, repeats)
    return Row(
        family=family,
        fast_rows_per_s=len(table) / _best(lambda: scorer.score_rows(rows), repeats),
        sklearn_rows_per_s=len(table) / _best(lambda: reference(table), repeats),
        fast_single_us=_best(lambda: scorer.score_rows(one), repeats * 20) * 1e6,
        sklearn_single_us=_best(lambda: reference(one_table), repeats * 20) * 1e6,
        max_relative_difference=float(difference.max()) if difference.size else 0.0,
        labels_equal=labels_equal,
        fast_cold_ms=fast_cold,
        sklearn_cold_ms=sklearn_cold,
        fast_rss_mib=fast_rss,
        sklearn_rss_mib=sklearn_rss,
    )


def markdown(rows: list[Row]) -> str:
    """The figures as a Markdown table."""
    lines = [
        "| family | fast rows/s | scikit-learn rows/s | fast 1 row µs | scikit-learn 1 row µs "
        "| max rel. diff | labels equal | fast cold ms | scikit-learn cold ms "
        "| fast RSS MiB | scikit-learn RSS MiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r.family} | {r.fast_rows_per_s:,.0f} | {r.sklearn_rows_per_s:,.0f} "
        f"| {r.fast_single_us:,.0f} | {r.sklearn_single_us:,.0f} "
        f"| {r.max_relative_difference:.1e} | {'yes' if r.labels_equal else 'NO'} "
        f"| {r.fast_cold_ms:,.0f} | {r.sklearn_cold_ms:,.0f} "
        f"| {r.fast_rss_mib:,.0f} | {r.sklearn_rss_mib:,.0f} |"
        for r in rows
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure every family and print the table (``--json`` for machine-readable)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="rows in the batch")
    parser.add_argument("--trees", type=int, default=100, help="trees / stages / iterations")
    parser.add_argument("--booster-trees", type=int, default=300, help="XGBoost/LightGBM trees")
    parser.add_argument("--repeats", type=int, default=5, help="best of this many runs")
    parser.add_argument("--json", action="store_true", help="print JSON instead")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    results = []
    compile_sources()  # the fresh processes read irisserve's bytecode, as installed
    for family, estimator, table in models(args.trees, rng):
        batch = table[rng.integers(0, len(table), args.rows)].copy()
        if batch.dtype != object:
            batch += rng.normal(scale=0.01, size=batch.shape)  # rows not seen in training
        results.append(measure(family, estimator, batch, args.repeats))
    booster_rows = []
    for family, estimator, table in boosters.models(args.booster_trees):
        batch = table[rng.integers(0, len(table), args.rows)]
        batch = batch + rng.normal(scale=0.01, size=batch.shape)
        booster_rows.append(boosters.measure(family, estimator, table, batch, args.repeats))
    if args.json:
        found = {"families": results, "boosters": booster_rows}
        print(json.dumps({k: [asdict(r) for r in v] for k, v in found.items()}, indent=2))
    else:
        print(f"{markdown(results)}\n\n{boosters.markdown(booster_rows)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

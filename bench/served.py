"""Served: the fast path against scikit-learn on the same artifact, beside the floor.

    python -m bench.served            # the default run (a few minutes)
    python -m bench.served --quick    # fewer, shorter samples

Packages the issue's four representative models (``bench.scorers``: a scaler + one-hot +
LogisticRegression pipeline, a 100-tree RandomForestClassifier, a 100-stage
GradientBoostingRegressor, a HistGradientBoostingClassifier; fixed seeds, 2,000 synthetic
rows) and an XGBoost and a LightGBM classifier (``bench.boosters``: 300 trees, 30
features) once into ``build/bench-models/<family>-<trees>`` with ``irisserve.packaging``,
then serves each folder through the real functions-framework (``IRISSERVE_MODEL_DIR``)
with ``IRISSERVE_SCORER=fast`` (when the folder holds the pickle-free export) and with
``IRISSERVE_SCORER=sklearn``, beside the no-op floor, in one run of the harness
(``bench.harness.run``: cold start, warm p50, worker peak RSS, 10,000-row batch rows/s).
Each variant's name says the backend that served it. The batch target is scikit-learn's
own in-process rate on the same 10,000 rows (for the boosters, the wrapper's
``predict_proba``); beside it, the boosters' own in-process rates
(``xgboost.Booster.inplace_predict``, ``lightgbm.Booster.predict``, every thread and one).
The full default run writes ``bench/results/scorers.{json,md,png}``;
a narrower one ``build/bench/``. All traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench import boosters, harness, report, scorers
from bench.processes import VARIANTS, Probe, Variant
from irisserve.artifact.folder import FAST_NAME
from irisserve.artifact.manifest import read_manifest
from irisserve.config import Settings
from irisserve.packaging import write_artifact
from tests.helpers.processes import MAIN

__all__ = [
    "BOOSTERS",
    "DEFAULT",
    "FAMILIES",
    "METRICS",
    "QUICK",
    "Family",
    "main",
    "package",
    "targets",
]

MODELS = Path(__file__).resolve().parent.parent / "build" / "bench-models"
#: Short names, in ``bench.scorers``'s order of families, then ``bench.boosters``'s.
FAMILIES = ("pipeline", "forest", "boosting", "hist", "xgboost", "lightgbm")
BOOSTERS = ("xgboost", "lightgbm")
DEFAULT = harness.Plan(rounds=2, requests=300, seconds=1.0, batch_rows=10_000, batch_repeats=2)
QUICK = harness.Plan(rounds=1, requests=30, seconds=0.2, batch_rows=10_000, batch_repeats=1)
METRICS = tuple(m for m in report.METRICS if not m.key.startswith(("v2_", "cold_v")))


class Family:
    """One packaged model: its folder, a single row and a batch to send, scikit-learn's
    in-process rows/s on that batch, and the backends its folder can be served with
    (``fast`` only when it holds the pickle-free export)."""

    def __init__(self, name: str, label: str, folder: Path, batch: Any, rate: float) -> None:
        self.name, self.label, self.folder, self.rate = name, label, folder, rate
        files = read_manifest(folder).files
        self.backends = ("fast", "sklearn") if FAST_NAME in files else ("sklearn",)
        #: A booster's own in-process rows/s on the batch (``every thread``, ``1 thread``).
        self.library: dict[str, float] = {}
        rows = batch.tolist()
        self.predict = Probe("POST", "/predict", json.dumps({"features": rows[0]}).encode())
        body = json.dumps({"instances": rows}).encode()
        self.batch = Probe("POST", "/predict", body)
        #: The body limit, raised for a batch over the default (10,000 rows of 30 features).
        self.max_body = max(Settings().max_body_bytes, len(body) + 1024)

    def variants(self) -> tuple[Variant, ...]:
        """The folder served with each of its backends (lazy load)."""
        return tuple(
            Variant(
                f"{self.name}-{scorer}",
                f"{self.label}, {scorer}",
                MAIN,
                {
                    "IRISSERVE_MODEL_DIR": str(self.folder),
                    "IRISSERVE_SCORER": scorer,
                    "IRISSERVE_EAGER_LOAD": "0",
                    "IRISSERVE_MAX_BODY_BYTES": str(self.max_body),
                },
                predict=self.predict,
                batch=self.batch,
                # irisserve's scikit-learn path scores a batch row by row (batch
                # invariance): 10,000 rows of a forest take minutes, so it is not timed.
                batches=scorer == "fast",
                routes=False,  # the other routes' probes send an Iris row
            )
            for scorer in self.backends
        )


def _best_rate(function: Callable[[Any], Any], batch: Any, repeats: int) -> float:
    """Rows per second of ``function(batch)``, the best of ``repeats``."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        function(batch)
        best = min(best, time.perf_counter() - started)
    return len(batch) / best


def _columns(table: Any) -> Any:
    """The training rows as a user's DataFrame holds them: the mixed table's numbers as
    float64 columns (in an object array every column would be described as categories)."""
    import pandas as pd

    if table.dtype != object:
        return table
    return pd.DataFrame(table, columns=[f"x{i}" for i in range(table.shape[1])]).infer_objects()


def _library_rates(estimator: Any, batch: Any) -> dict[str, float]:
    """A booster's own in-process rows/s on ``batch``, every thread and one (none for the
    scikit-learn families)."""
    if not hasattr(estimator, "get_booster") and not hasattr(estimator, "booster_"):
        return {}
    return {
        way: _best_rate(boosters.library_predict(estimator, threads), batch, 3)
        for way, threads in (("every thread", None), ("1 thread", 1))
    }


def package(
    folder: Path, trees: int, rows: int, wanted: tuple[str, ...], booster_trees: int = 300
) -> list[Family]:
    """Fit the families (fixed seeds), package each ``wanted`` one into ``folder`` unless
    already there, and measure scikit-learn's in-process rate on a ``rows``-row batch."""
    rng = np.random.default_rng(0)
    families = []
    fitted = scorers.models(trees, rng)
    if set(wanted) & set(BOOSTERS):  # fitting a few hundred trees each takes seconds
        fitted += boosters.models(booster_trees)
    for name, (label, estimator, table) in zip(FAMILIES[: len(fitted)], fitted, strict=True):
        batch = table[rng.integers(0, len(table), rows)].copy()
        if batch.dtype != object:
            batch += rng.normal(scale=0.01, size=batch.shape)  # rows not seen in training
        if name not in wanted:
            continue
        target = folder / f"{name}-{booster_trees if name in BOOSTERS else trees}"
        if not (target / "manifest.json").exists():
            write_artifact(
                estimator, _columns(table), target, name=name, version="1.0.0", random_seed=0
            )
        regression = not hasattr(estimator, "classes_")
        reference = estimator.predict if regression else estimator.predict_proba
        family = Family(name, label, target, batch, _best_rate(reference, batch, 3))
        family.library = _library_rates(estimator, batch)
        families.append(family)
    return families


def targets(result: dict[str, Any], families: list[Family]) -> list[dict[str, Any]]:
    """The issue's targets for each family's fast path (a family served by scikit-learn
    only has none), against the floor and (batch) scikit-learn's in-process rate."""
    floor = result["variants"]["floor"]["metrics"]
    checked = []
    for family in (f for f in families if "fast" in f.backends):
        fast = result["variants"][f"{family.name}-fast"]["metrics"]
        for target in (
            report.Target("cold_predict_ms", "ratio_max", 1.3),
            report.Target("warm_p50_ms", "ratio_max", 1.15),
            report.Target("worker_rss_mb", "over_floor_max", 40.0),
            report.Target("batch_rows_per_s", "absolute_min", family.rate),
        ):
            checked.append({"variant": family.name, **report.check(target, fast, floor)})
    return checked


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    harness.add_run_options(parser, "one short round", "scorers")
    parser.add_argument("--trees", type=int, default=100, help="trees / stages / iterations")
    parser.add_argument("--booster-trees", type=int, default=300, help="XGBoost/LightGBM trees")
    parser.add_argument("--families", default=",".join(FAMILIES), help=", ".join(FAMILIES))
    parser.add_argument("--models", type=Path, default=MODELS, help="packaged models' folder")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    args = _parser().parse_args(argv)
    plan = harness.plan_from(args, DEFAULT, QUICK)
    wanted = harness.choose(args.families, {f: f for f in FAMILIES}, "families")
    started = time.monotonic()
    info = harness.run_info("bench.served", argv, plan)
    families = package(args.models, args.trees, plan.batch_rows, wanted, args.booster_trees)
    info["sklearn_in_process_rows_per_s"] = {f.name: f.rate for f in families}
    info["library_in_process_rows_per_s"] = {f.name: f.library for f in families if f.library}
    info["served_by"] = {f.name: list(f.backends) for f in families}
    variants = (VARIANTS[0], *(v for f in families for v in f.variants()))
    samples = harness.run(plan, variants)
    info["duration_seconds"] = round(time.monotonic() - started, 1)
    info["loadavg_after"] = report.machine()["loadavg"]
    labels = {v.name: v.label for v in variants}
    result = report.summarise(samples, labels, info, METRICS)
    result["targets"] = targets(result, families)
    result["target_label"] = "fast path"
    everything = wanted == FAMILIES and args.trees == 100 and args.booster_trees == 300
    harness.publish(
        result,
        harness.output_folder(args, everything),
        plot=not args.no_plot,
        stem="scorers",
        metrics=METRICS,
        title="fast path vs scikit-learn, same artifact, beside the floor",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What explaining costs: a 1,000-row batch beside shap, and the first explain of a cold process.

1. In process, the same run: a 100-tree random forest packaged as the function serves it,
   a 1,000-row batch explained by irisserve (its first explain, which builds the explainer
   from ``explain.npz``, then warm ones) and by ``shap.TreeExplainer`` (path-dependent,
   built then warm), rounds interleaved; the answers are checked equal within 1e-9.
2. Cold: spawn → first 200 of ``POST /explain`` (one row) for that artifact's function and
   for a 100-tree forest on Iris, beside spawn → first 200 of the no-op floor, ``--rounds``
   each, alternated.

Writes ``bench/results/explain.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shap
from sklearn.datasets import load_iris, make_classification
from sklearn.ensemble import RandomForestClassifier

from bench.measure import spawn_until_ok
from bench.processes import FLOOR_MAIN, MAIN, PREDICT, Probe, Variant, compile_sources
from irisserve.artifact.folder import open_artifact
from irisserve.explain.explainer import explainer_for
from irisserve.packaging import write_artifact

RESULTS = Path(__file__).parent / "results" / "explain.json"
FEATURES = 8


def _packaged(forest: RandomForestClassifier, x: Any, y: Any) -> Path:
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(x.shape[1])])
    forest.fit(frame, y)
    folder = Path(tempfile.mkdtemp(prefix="irisserve-bench-explain-"))
    write_artifact(forest, frame, folder, name="forest", version="1", y=pd.Series(y))
    return folder


def _forest(trees: int, seed: int) -> tuple[RandomForestClassifier, Path]:
    """The batch's forest: depth 10 on 4,000 rows of 8 features, 3 classes."""
    x, y = make_classification(4000, FEATURES, n_informative=5, n_classes=3, random_state=seed)
    forest = RandomForestClassifier(trees, max_depth=10, random_state=seed)
    return forest, _packaged(forest, x, y)


def _iris_forest(trees: int, seed: int) -> Path:
    """A forest the size of the bundled model's data: Iris, 4 features."""
    x, y = load_iris(return_X_y=True)
    return _packaged(RandomForestClassifier(trees, random_state=seed), x, y)


def _timed(function: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    answer = function()
    return time.perf_counter() - started, answer


def in_process(forest: Any, folder: Path, rows: Any, rounds: int) -> dict[str, Any]:
    """Seconds per batch: irisserve first/warm, shap built+explained/warm, interleaved."""
    times: dict[str, list[float]] = {"irisserve_first": [], "irisserve_warm": []}
    times |= {"shap_first": [], "shap_warm": []}
    difference = 0.0
    for _ in range(rounds):
        model = open_artifact(folder)  # a fresh model: its first explain builds the explainer
        first, ours = _timed(lambda m=model: explainer_for(m).explain(rows))
        warm, _ = _timed(lambda m=model: explainer_for(m).explain(rows))
        times["irisserve_first"].append(first)
        times["irisserve_warm"].append(warm)
        built, theirs = _timed(
            lambda: shap.TreeExplainer(forest, feature_perturbation="tree_path_dependent")
        )
        values_time, values = _timed(lambda e=theirs: e.shap_values(rows))
        again, _ = _timed(lambda e=theirs: e.shap_values(rows))
        times["shap_first"].append(built + values_time)
        times["shap_warm"].append(again)
        difference = max(
            difference, float(np.abs(ours.attributions.transpose(2, 0, 1) - values).max())
        )
    medians = {name: statistics.median(found) for name, found in times.items()}
    return {"seconds": medians, "all_seconds": times, "max_difference": difference}


def cold(folders: dict[str, tuple[Path, int]], rounds: int, log_dir: Path) -> dict[str, Any]:
    """Spawn → first 200: the floor's predict, and each artifact's first one-row explain."""
    variants = [(Variant("floor", "no-op function (floor)", FLOOR_MAIN, {}), PREDICT)]
    for name, (folder, width) in folders.items():
        body = json.dumps({"features": [0.1] * width}).encode()
        env = {"IRISSERVE_MODEL_DIR": str(folder), "IRISSERVE_EAGER_LOAD": "0"}
        for path in ("/predict", "/explain"):  # the same artifact's first predict: the control
            label = f"{name}{path.replace('/', '_')}"
            variants.append((Variant(label, label, MAIN, env), Probe("POST", path, body)))
    found: dict[str, list[float]] = {variant.name: [] for variant, _ in variants}
    for _ in range(rounds):
        for variant, probe in variants:
            process, seconds = spawn_until_ok(variant, probe, log_dir)
            process.stop()
            found[variant.name].append(seconds)
    medians = {name: statistics.median(values) for name, values in found.items()}
    ratios = {name: value / medians["floor"] for name, value in medians.items()}
    return {"seconds": medians, "all_seconds": found, "ratio_to_floor": ratios}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cold-only", action="store_true", help="skip the 1,000-row batch")
    args = parser.parse_args()
    compile_sources()
    forest, folder = _forest(args.trees, args.seed)
    rows = np.random.default_rng(args.seed + 1).normal(size=(args.rows, FEATURES)) * 1.5
    batch = {} if args.cold_only else in_process(forest, folder, rows, args.rounds)
    with tempfile.TemporaryDirectory() as logs:
        folders = {"iris_forest": (_iris_forest(args.trees, args.seed), 4)}
        folders["batch_forest"] = (folder, FEATURES)
        starts = cold(folders, args.rounds, Path(logs))
    nodes = sum(tree.tree_.node_count for tree in forest.estimators_)
    result = {"rows": args.rows, "trees": args.trees, "nodes": nodes, "batch": batch}
    result |= {"cold": starts, "rounds": args.rounds}
    path = RESULTS.with_name("explain-cold.json") if args.cold_only else RESULTS
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"| {args.rows} rows, {args.trees} trees ({nodes} nodes) | median s |")
    print("|---|---|")
    for name, value in batch.get("seconds", {}).items():
        print(f"| {name} | {value:.4f} |")
    if batch:
        print(f"| max difference from shap | {batch['max_difference']:.2e} |")
    for name, value in starts["seconds"].items():
        ratio = starts["ratio_to_floor"][name]
        print(f"| cold start to first 200: {name} | {value:.4f} ({ratio:.2f}x the floor) |")


if __name__ == "__main__":
    main()

"""What explaining needs beyond the scorer, written at packaging time: ``explain.npz``.

``source``: the input column behind each model column; trees add ``cover``, the training
samples (or their weights) reaching each node, in ``scorer.npz``'s flat node order — what
``shap.TreeExplainer`` reads (``tree_.weighted_n_node_samples``, a histogram gradient
boosting node's ``count``, XGBoost's ``sum_hessian``, LightGBM's ``internal_count`` /
``leaf_count``: ``scorers.boosters.booster_covers``); linear models add ``mean``, each
model column's training mean.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from irisserve.explain.columns import sources
from irisserve.scorers.boosters import booster_covers, library_of
from irisserve.scorers.fast import FastScorer, load
from irisserve.scorers.linear import Linear

__all__ = ["EXPLAIN_NAME", "explain_file"]

EXPLAIN_NAME = "explain.npz"


def _covers(model: Any) -> Any:
    """Every tree's node covers, trees in the order the export concatenates them."""
    import numpy as np

    if library_of(model):
        return booster_covers(model).astype("<f8")
    name = type(model).__name__
    if name.startswith("HistGradientBoosting"):
        counts = [p.nodes["count"] for iteration in model._predictors for p in iteration]
        return np.concatenate(counts).astype("<f8")
    if name.startswith("GradientBoosting"):
        trees = [tree.tree_ for stage in model.estimators_ for tree in stage]
    elif hasattr(model, "estimators_"):
        trees = [tree.tree_ for tree in model.estimators_]
    else:
        trees = [model.tree_]
    return np.concatenate([t.weighted_n_node_samples for t in trees]).astype("<f8")


def explain_file(
    estimator: Any, scorer_files: dict[str, bytes], rows: Sequence[Sequence[Any]]
) -> bytes:
    """``explain.npz`` for a fitted estimator, its fast export and its training rows."""
    import numpy as np

    scorer: FastScorer = load(scorer_files)
    source = sources(scorer.steps, list(range(scorer.width)))
    arrays: dict[str, Any] = {"source": np.array(source, dtype="<i4")}
    if isinstance(scorer.model, Linear):
        arrays["mean"] = scorer.model_columns(rows).mean(axis=0).astype("<f8")
    else:
        final = estimator.steps[-1][1] if type(estimator).__name__ == "Pipeline" else estimator
        cover = _covers(final)
        if len(cover) != len(scorer.model.forest.left):
            raise ValueError(f"{len(cover)} covers for {len(scorer.model.forest.left)} nodes")
        arrays["cover"] = cover
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)  # read back by numpy.load, without pickle
    return buffer.getvalue()

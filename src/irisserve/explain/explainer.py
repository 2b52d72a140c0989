"""A served model's explainer: built once, on its first explain request.

Fast-path models are explained here exactly (``treeshap``, ``linear``) from the scorer and
``explain.npz``; an artifact packaged before explanations has no ``explain.npz`` and is
refused (``NotExplainable``: repackage it). Models served by scikit-learn go to
``irisserve.explain.fallback`` (``shap``, the ``irisserve[explain]`` extra).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from typing import Any

from irisserve.artifact.manifest import REGRESSION
from irisserve.artifact.model import Model
from irisserve.errors import NotExplainable
from irisserve.explain.explanations import Explanations, RowExplainer
from irisserve.explain.export import EXPLAIN_NAME
from irisserve.scorers.fast import FastScorer
from irisserve.scorers.linear import Linear
from irisserve.scorers.trees import Boosting, Trees

__all__ = ["Explainer", "explainer_for", "fast_explainer"]


class Explainer:
    """Attributions in the model's columns, summed onto the input columns."""

    def __init__(
        self, scorer: FastScorer, engine: Any, source: list[int], outputs: list[str], space: str
    ) -> None:
        self.scorer, self.engine, self.source = scorer, engine, source
        self.outputs, self.space = outputs, space

    def explain(self, rows: Sequence[Sequence[Any]] | Any) -> Explanations:
        """The attributions of validated rows (lists of cells, or a float64 array)."""
        import numpy as np

        matrix = _as_trees_read(self.scorer.model, self.scorer.model_columns(rows))
        columns = self.engine.explain(matrix)
        inputs = np.zeros((self.scorer.width, *columns.shape[1:]))
        for column, source in enumerate(self.source):  # in column order, every row alike
            inputs[source] += columns[column]
        return Explanations(self.outputs, self.space, self.engine.baseline.tolist(), inputs)


def _as_trees_read(model: Any, matrix: Any) -> Any:
    """The model's columns as a booster's trees read them (``trees.Boosting``): LightGBM's
    categorical ones rounded toward zero, XGBoost's values that are no category (negative,
    256 or more as float32) replaced by its code for them."""
    if not isinstance(model, Boosting) or not (model.truncate or model.invalid):
        return matrix
    import numpy as np

    matrix = matrix.copy()
    for feature in model.truncate:
        matrix[:, feature] = np.trunc(matrix[:, feature])
    for feature, code in model.invalid.items():
        rounded = matrix[:, feature].astype(np.float32).astype(np.float64)
        matrix[:, feature] = np.where((rounded < 0) | (rounded >= 256), float(code), rounded)
    return matrix


def _engine(scorer: FastScorer, arrays: dict[str, Any]) -> tuple[Any, str]:
    """The attribution engine of the scorer's model, and the space it answers in."""
    from irisserve.explain.treeshap import TreeShap

    model = scorer.model
    if isinstance(model, Linear):
        from irisserve.explain.linear import LinearShap

        space = "raw" if model.link in ("identity", "decision") else "log_odds"
        return LinearShap(model, arrays["mean"]), space
    forest, cover = model.forest, arrays["cover"]
    values = forest.numpy("values").reshape(len(forest.left), -1)
    n_trees = len(forest.roots)
    if isinstance(model, Trees):
        scaled = values * (1.0 / n_trees) if model.average else values
        space = "probability" if model.classifier else "raw"
        return TreeShap(forest, cover, scaled, [0] * n_trees, [0.0] * model.width), space
    assert isinstance(model, Boosting)
    outputs = len(model.init)
    offset = [tree % outputs for tree in range(n_trees)]
    space = "log_odds" if model.classifier else "raw"
    return TreeShap(forest, cover, values, offset, model.init), space


def fast_explainer(scorer: FastScorer, data: bytes, names: list[str]) -> Explainer:
    """The explainer of a fast-path scorer from its ``explain.npz``; ``names`` are the
    classes' names (or the regressor's output name): one margin answers the last class."""
    import numpy as np

    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    engine, space = _engine(scorer, arrays)
    outputs = names if len(engine.baseline) == len(names) else names[-1:]
    return Explainer(scorer, engine, arrays["source"].tolist(), outputs, space)


def _build(model: Model) -> RowExplainer:
    if not isinstance(model.scorer, FastScorer):
        from irisserve.explain.fallback import shap_explainer

        return shap_explainer(model)
    data = model.deferred.read(EXPLAIN_NAME)
    if data is None:
        raise NotExplainable(
            f"model {model.manifest.model_name!r} {model.version} was packaged without "
            f"{EXPLAIN_NAME}, which explanations need: repackage it with this irisserve "
            "(python -m irisserve.packaging, or make train) and redeploy"
        )
    task = model.task
    names = [task.output or "prediction"] if task.type == REGRESSION else model.class_names
    return fast_explainer(model.scorer, data, names)


_built: dict[int, tuple[Model, RowExplainer]] = {}
_lock = threading.Lock()


def explainer_for(model: Model) -> RowExplainer:
    """The model's explainer, built on first use (``NotExplainable`` if it cannot be)."""
    with _lock:
        found = _built.get(id(model))
        if found is None or found[0] is not model:
            found = (model, _build(model))
            _built.clear()  # one model is served at a time
            _built[id(model)] = found
        return found[1]

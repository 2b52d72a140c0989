"""Models outside the fast path: ``shap``'s exact explainer, if ``irisserve[explain]`` is there.

The game is the model's score (as the task says: probabilities, decision scores or the
predicted value) with absent features at one baseline row: each numeric feature's training
mean, each categorical one's first category. ``shap.explainers.Exact`` answers its exact
Shapley values, ``2 ** features`` evaluations per row, one row at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from irisserve.artifact.manifest import CATEGORICAL, CLASSIFICATION, REGRESSION
from irisserve.artifact.model import Model
from irisserve.errors import MissingExtra, NotExplainable
from irisserve.explain.explanations import Explanations
from irisserve.scorers.estimator import SklearnScorer

__all__ = ["ShapExplainer", "shap_explainer"]


class ShapExplainer:
    """Exact Shapley values of a scikit-learn model's scores against one baseline row."""

    def __init__(self, model: Model, outputs: list[str], space: str) -> None:
        import shap

        scorer = model.scorer
        assert isinstance(scorer, SklearnScorer)
        self.scorer, self.space = scorer, space
        statistics = model.manifest.feature_statistics
        baseline: list[Any] = [
            (feature.categories[0] if feature.categories else None)
            if feature.type == CATEGORICAL
            else statistics[feature.name].mean
            for feature in model.features
        ]
        self.background = scorer._array([baseline])
        method = model.task.scores if model.task.type == CLASSIFICATION else "predict"
        self.method = method or "predict"
        self.exact = shap.explainers.Exact(self.score, self.background)
        self.baseline = self.score(self.background)[0]
        self.outputs = outputs if len(outputs) == len(self.baseline) else outputs[-1:]

    def score(self, x: Any) -> Any:
        """The explained score of each row of ``x``, ``(rows, outputs)``."""
        import numpy as np

        scores = getattr(self.scorer.estimator, self.method)(x)
        return np.asarray(scores, dtype=np.float64).reshape(len(x), -1)

    def explain(self, rows: Sequence[Sequence[Any]] | Any) -> Explanations:
        """The attributions of validated rows."""
        import numpy as np

        x = self.scorer._array(rows)
        values = [np.asarray(self.exact(x[i : i + 1]).values)[0] for i in range(len(x))]
        attributions = np.stack(values, axis=-1).reshape(x.shape[1], len(self.baseline), -1)
        return Explanations(self.outputs, self.space, self.baseline.tolist(), attributions)


def shap_explainer(model: Model) -> ShapExplainer:
    """The explainer of a model served by scikit-learn; ``MissingExtra`` without ``shap``."""
    try:
        import shap  # noqa: F401
    except ImportError as exc:
        raise MissingExtra(
            "explaining a model outside the fast path needs shap: install irisserve[explain] "
            "(or repackage the model into the pickle-free fast path, explained without it)"
        ) from exc
    task = model.task
    if task.type == REGRESSION:
        return ShapExplainer(model, [task.output or "prediction"], "raw")
    if task.scores is None:
        raise NotExplainable("a classifier that answers labels only has no score to explain")
    space = "probability" if task.scores == "predict_proba" else "raw"
    return ShapExplainer(model, model.class_names, space)

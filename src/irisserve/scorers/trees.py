"""Decision trees, random forests, extra trees and gradient boosting, without scikit-learn.

Exports the fitted node arrays (``.npz``) and scores as scikit-learn does: the input
rounded to float32 before the threshold comparisons, forest probabilities and values
summed tree by tree from zero in the estimators' order then divided by their number, and
gradient boosting's raw score ``init + learning_rate * leaf`` added stage by stage
(``learning_rate * leaf`` is computed once at export, the same IEEE product).
Histogram gradient boosting (``hist``) and XGBoost's and LightGBM's models (``boosters``)
share the boosting scorer.
"""

from __future__ import annotations

import math
from functools import reduce
from operator import add
from typing import Any

from irisserve.scorers._forest import Forest, join_parts
from irisserve.scorers._link import argmax, expit, softmax
from irisserve.scorers._ops import Column
from irisserve.scorers._spec import NotExportable, floats, integers, need
from irisserve.scorers.output import Output

__all__ = ["Boosting", "Trees", "export_trees", "node_arrays"]

_FORESTS = {
    "DecisionTreeClassifier": False,
    "DecisionTreeRegressor": False,
    "RandomForestClassifier": True,
    "RandomForestRegressor": True,
    "ExtraTreesClassifier": True,
    "ExtraTreesRegressor": True,
}


def node_arrays(trees: list[Any], n_features: int) -> dict[str, Any]:
    """Concatenate fitted ``sklearn.tree._tree.Tree`` objects into the flat layout."""
    import numpy as np

    parts: dict[str, list[Any]] = {k: [] for k in ("feature", "threshold", "left", "right")}
    parts |= {"missing_left": [], "roots": []}
    offset = 0
    for tree in trees:
        is_leaf = tree.children_left == -1
        parts["roots"].append(offset)
        parts["feature"].append(np.where(is_leaf, 0, tree.feature))
        parts["threshold"].append(tree.threshold)
        parts["left"].append(np.where(is_leaf, -1, tree.children_left + offset))
        parts["right"].append(np.where(is_leaf, -1, tree.children_right + offset))
        parts["missing_left"].append(tree.missing_go_to_left)
        offset += tree.node_count
    return join_parts(parts) | no_categories(offset, n_features)


def no_categories(n_nodes: int, n_features: int) -> dict[str, Any]:
    """The categorical arrays of trees without categorical splits."""
    import numpy as np

    return {
        "category": np.full(n_nodes, -1, dtype="<i4"),
        "left_bitsets": np.zeros((0, 8), dtype="<u4"),
        "known_bitsets": np.zeros((0, 8), dtype="<u4"),
        "known_index": np.full(n_features, -1, dtype="<i4"),
    }


def _export_forest(estimator: Any, average: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    import numpy as np

    if estimator.n_outputs_ != 1:
        raise NotExportable(f"{type(estimator).__name__}: only single-output models")
    trees = [e.tree_ for e in estimator.estimators_] if average else [estimator.tree_]
    arrays = node_arrays(trees, estimator.n_features_in_)
    classifier = hasattr(estimator, "classes_")
    width = len(estimator.classes_) if classifier else 1
    values = np.concatenate([tree.value[:, 0, :width] for tree in trees]).astype("<f8")
    arrays["values"] = values
    spec = {"kind": "trees", "classifier": classifier, "average": average, "width": width}
    return spec, arrays


_BOOSTING_LOSSES = {
    "HalfBinomialLoss": "logistic",
    "HalfMultinomialLoss": "softmax",
    "HalfSquaredError": "identity",
    "AbsoluteError": "identity",
    "HuberLoss": "identity",
    "PinballLoss": "identity",
}


def _export_gradient_boosting(estimator: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    import numpy as np

    classifier = hasattr(estimator, "classes_")
    loss = type(estimator._loss).__name__
    if loss not in _BOOSTING_LOSSES:
        raise NotExportable(f"{type(estimator).__name__}: loss {loss} is not exportable")
    if estimator.init_ != "zero" and type(estimator.init_).__name__ not in (
        "DummyClassifier",
        "DummyRegressor",
    ):
        raise NotExportable(f"{type(estimator).__name__}: a custom init estimator")
    stages, outputs = estimator.estimators_.shape
    trees = [estimator.estimators_[i, k].tree_ for i in range(stages) for k in range(outputs)]
    arrays = node_arrays(trees, estimator.n_features_in_)
    scale = float(estimator.learning_rate)
    arrays["values"] = np.concatenate([scale * tree.value[:, 0, 0] for tree in trees])
    init = estimator._raw_predict_init(np.zeros((1, estimator.n_features_in_)))[0]
    spec = {
        "kind": "boosting",
        "init": init.tolist(),
        "link": _BOOSTING_LOSSES[loss] if classifier else "identity",
        "classifier": classifier,
        "label_if_zero": 1,
        "float32": True,
    }
    return spec, arrays


def export_trees(estimator: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The JSON spec and node arrays of a tree model, or None if it is not one."""
    name = type(estimator).__name__
    if name in _FORESTS:
        return _export_forest(estimator, _FORESTS[name])
    if name in ("GradientBoostingClassifier", "GradientBoostingRegressor"):
        return _export_gradient_boosting(estimator)
    return None


class Trees:
    """A single tree, or a forest averaged tree by tree."""

    def __init__(self, forest: Forest, classifier: bool, average: bool, width: int) -> None:
        self.forest, self.classifier, self.average, self.width = forest, classifier, average, width

    def predict(self, columns: list[Column], ops: Any) -> Output:
        """Probabilities and labels, or values."""
        leaves = ops.leaves(self.forest, columns)
        outputs = []
        for j in range(self.width):
            picked = ops.take(self.forest, leaves, self.width, j)
            if self.average:  # summed tree by tree from zero, in the estimators' order
                outputs.append(reduce(add, picked, ops.constant(0.0)) / len(picked))
            else:
                outputs.append(picked[0])
        if self.classifier:
            return Output(labels=argmax(outputs, ops), probabilities=outputs)
        return Output(values=outputs[0])


class Boosting:
    """Gradient boosting: ``init``, plus each stage's leaf value, then the link.

    ``float32_sum`` (XGBoost): the sum and the link in float32 (``_float32``), labels
    from the probabilities; ``label_by_probability`` (LightGBM): labels the first
    largest probability, as the library's ``argmax`` of ``predict_proba``; ``truncate``
    (LightGBM's categorical features): those columns' values rounded toward zero first;
    ``invalid`` (XGBoost's): a feature's values that are no category (negative, 256 or
    more, as float32) replaced by a code no split sends right.
    """

    def __init__(
        self,
        forest: Forest,
        init: list[float],
        link: str,
        classifier: bool,
        label_if_zero: int,
        *,
        float32_sum: bool = False,
        label_by_probability: bool = False,
        truncate: tuple[int, ...] = (),
        invalid: dict[int, int] | None = None,
    ) -> None:
        self.forest, self.init, self.link = forest, init, link
        self.classifier, self.label_if_zero = classifier, label_if_zero
        self.float32_sum = float32_sum
        self.label_by_probability = label_by_probability or float32_sum
        self.truncate, self.invalid = truncate, invalid or {}

    def predict(self, columns: list[Column], ops: Any) -> Output:
        """Raw scores through the loss's link."""
        if self.truncate or self.invalid:
            columns = list(columns)
            for feature in self.truncate:
                columns[feature] = _toward_zero(ops.number(columns[feature]))
            for feature, code in self.invalid.items():
                columns[feature] = _no_category(ops.number(columns[feature]), code, ops)
        picked = ops.take(self.forest, ops.leaves(self.forest, columns), 1, 0)
        outputs = len(self.init)
        # each output's trees (every ``outputs``-th one), added stage by stage
        if self.float32_sum:
            from irisserve.scorers import _float32  # XGBoost's models only

            raw = [_float32.sum_trees(v, picked[k::outputs]) for k, v in enumerate(self.init)]
            return self._output(raw, ops, _float32.sigmoid, _float32.softmax, _float32.round32)
        raw = [reduce(add, picked[k::outputs], ops.constant(v)) for k, v in enumerate(self.init)]
        if self.label_by_probability:
            return self._output(raw, ops, expit, softmax, _same)
        if not self.classifier:
            return Output(values=ops.exp(raw[0]) if self.link == "exp" else raw[0])
        if self.link == "softmax":
            return Output(labels=argmax(raw, ops), probabilities=softmax(raw, ops))
        positive = expit(raw[0], ops)
        label = ops.where(raw[0] > 0, 1, ops.where(raw[0] == 0, self.label_if_zero, 0))
        return Output(labels=label, probabilities=[1.0 - positive, positive])

    def _output(
        self, raw: list[Column], ops: Any, sigmoid: Any, normalise: Any, rounded: Any
    ) -> Output:
        """Values, or probabilities with the first largest one's index as the label
        (``sigmoid``, ``normalise``: the library's logistic and softmax; ``rounded``: its
        rounding of ``1 - p``)."""
        if not self.classifier:
            transforms = {"exp": ops.exp, "logistic": lambda x: sigmoid(x, ops)}
            return Output(values=transforms.get(self.link, _same)(raw[0]))
        if self.link == "softmax":
            probabilities = normalise(raw, ops)
        else:
            positive = sigmoid(raw[0], ops)
            probabilities = [rounded(1.0 - positive), positive]
        return Output(labels=argmax(probabilities, ops), probabilities=probabilities)


def _same(column: Column) -> Column:
    return column


def _no_category(column: Column, code: int, ops: Any) -> Column:
    """A column as float32, its values outside [0, 256) but NaN replaced by ``code``."""
    from irisserve.scorers._float32 import round32

    rounded = round32(column)
    outside = (rounded < 0) | (rounded >= 256)  # NaN: False either way
    return ops.where(outside, float(code), rounded)


def _toward_zero(column: Column) -> Column:
    """A float rounded toward zero (NaN and infinities kept), or an array of them."""
    if isinstance(column, float):
        return float(math.trunc(column)) if math.isfinite(column) else column
    import numpy as np

    return np.trunc(column)


def load_model(spec: dict[str, Any], forest: Forest) -> Trees | Boosting:
    """The tree scorer a spec describes."""
    n_values = len(forest.arrays["values"].flat)
    n_nodes = len(forest.arrays["feature"].flat)
    if spec["kind"] == "trees":
        width = spec["width"]
        need(type(width) is int and width >= 1, "width must be a positive integer")
        need(n_values == n_nodes * width, "values must hold width numbers per node")
        return Trees(forest, bool(spec["classifier"]), bool(spec["average"]), width)
    init = floats(spec["init"], "init")
    need(len(init) >= 1 and len(forest.roots) % len(init) == 0, "init: one per output")
    need(n_values == n_nodes, "values must hold one number per node")
    need(spec["link"] in ("identity", "exp", "logistic", "softmax"), "unknown link")
    need(spec["label_if_zero"] in (0, 1), "label_if_zero must be 0 or 1")
    link, classifier = spec["link"], bool(spec["classifier"])
    options = _library_options(spec, forest.n_features)
    return Boosting(forest, init, link, classifier, spec["label_if_zero"], **options)


def _library_options(spec: dict[str, Any], n_features: int) -> dict[str, Any]:
    """The optional fields of XGBoost's and LightGBM's boosting specs (absent: off)."""
    options = {name: spec.get(name, False) for name in ("float32_sum", "label_by_probability")}
    need(
        all(type(o) is bool for o in options.values()),
        "float32_sum, label_by_probability: booleans",
    )
    need(not options["float32_sum"] or spec["link"] != "exp", "float32_sum has no exp link")
    truncate = tuple(integers(spec.get("truncate", []), "truncate", n_features))
    invalid = spec.get("invalid", [])
    need(isinstance(invalid, list), "invalid must be a list")
    pairs = [integers(pair, "invalid", max(256, n_features)) for pair in invalid]
    need(
        all(len(p) == 2 and p[0] < n_features and p[1] < 256 for p in pairs),
        "invalid must hold [feature, code] pairs",
    )
    codes = {pair[0]: pair[1] for pair in pairs}
    return options | {"truncate": truncate, "invalid": codes}

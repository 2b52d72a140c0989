"""LightGBM models, from the booster's own dump (``booster_.dump_model()``).

LightGBM's ``Tree::NumericalDecision`` compares the float64 input: left when
``x <= threshold``; a NaN goes the ``default_left`` way when the node's missing type is
``NaN``, and is taken as 0.0 when it is ``None`` (so it goes left exactly when
``0.0 <= threshold``). ``GBDT::PredictRaw`` adds the leaf values in float64, tree by tree
from 0 (the learning rate and the initial score are already in them), then the
objective's output transform (``1 / (1 + exp(-x))``, softmax, ``exp``) in float64; the
scikit-learn wrapper labels the first largest probability.
"""

from __future__ import annotations

from typing import Any

from irisserve.scorers._forest import join_parts
from irisserve.scorers._spec import NotExportable
from irisserve.scorers.trees import no_categories

__all__ = ["booster_covers", "export_lightgbm"]

_LINKS = {"binary": "logistic", "multiclass": "softmax", "poisson": "exp", "gamma": "exp"}
_LINKS |= {"tweedie": "exp"}
_LINKS |= dict.fromkeys(
    ("regression", "regression_l1", "huber", "fair", "quantile", "mape"), "identity"
)
_INSTEAD = "serve it through lightgbm itself (the pickle, with lightgbm installed in the function)"


def _refuse(model: Any, what: str) -> NotExportable:
    return NotExportable(
        f"{type(model).__name__}: {what} has no exact pickle-free export; {_INSTEAD}"
    )


def _preorder(node: dict[str, Any]) -> list[dict[str, Any]]:
    """A tree's nodes, each before its children, the left subtree first."""
    nodes, stack = [], [node]
    while stack:
        node = stack.pop()
        nodes.append(node)
        if "split_index" in node:
            stack += [node["right_child"], node["left_child"]]
    return nodes


def _trees(model: Any) -> tuple[dict[str, Any], list[list[dict[str, Any]]]]:
    dump = model.booster_.dump_model()
    return dump, [_preorder(tree["tree_structure"]) for tree in dump["tree_info"]]


def _check_node(model: Any, node: dict[str, Any]) -> None:
    if "leaf_coeff" in node:
        raise _refuse(model, "a linear tree (linear_tree=True)")
    if "split_index" not in node:
        return
    if node["decision_type"] != "<=":
        raise _refuse(model, "a categorical split (categorical_feature)")
    if node["missing_type"] not in ("None", "NaN"):
        raise _refuse(model, "a zero-as-missing split (zero_as_missing=True)")


def _nodes(model: Any, trees: list[list[dict[str, Any]]], n_features: int) -> dict[str, Any]:
    names = ("feature", "threshold", "left", "right", "missing_left", "values")
    parts: dict[str, list[Any]] = {name: [] for name in (*names, "roots")}
    offset = 0
    for nodes in trees:
        where = {id(node): offset + i for i, node in enumerate(nodes)}
        parts["roots"].append(offset)
        columns: list[list[Any]] = [[] for _ in names]
        for node in nodes:
            _check_node(model, node)
            if "split_index" not in node:
                row = (0, 0.0, -1, -1, False, float(node["leaf_value"]))
            else:
                threshold = float(node["threshold"])
                nan_left = node["default_left"] if node["missing_type"] == "NaN" else threshold >= 0
                children = (where[id(node["left_child"])], where[id(node["right_child"])])
                row = (node["split_feature"], threshold, *children, bool(nan_left), 0.0)
            for column, value in zip(columns, row, strict=True):
                column.append(value)
        for name, column in zip(names, columns, strict=True):
            parts[name].append(column)
        offset += len(nodes)
    return join_parts(parts) | no_categories(offset, n_features)


def export_lightgbm(model: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The boosting spec and node arrays of a fitted ``LGBMClassifier``/``LGBMRegressor``."""
    dump, trees = _trees(model)
    described = str(dump.get("objective", "custom"))
    objective, *options = described.split()
    # ``sqrt`` squares a regression's output; ``sigmoid:s`` scales the logistic's input
    if (
        objective not in _LINKS
        or "sqrt" in options
        or (objective == "binary" and options != ["sigmoid:1"])
    ):
        raise _refuse(model, f"objective {described!r}")
    if dump["average_output"]:
        raise _refuse(model, "a random forest (boosting='rf')")
    spec = {
        "kind": "boosting",
        "init": [0.0] * int(dump["num_tree_per_iteration"]),
        "link": _LINKS[objective],
        "classifier": hasattr(model, "classes_"),
        "label_if_zero": 0,
        "float32": False,
        "label_by_probability": True,
    }
    return spec, _nodes(model, trees, int(model.n_features_in_))


def booster_covers(model: Any) -> Any:
    """Each exported node's cover (``internal_count``/``leaf_count``, what
    ``shap.TreeExplainer`` weighs LightGBM's nodes by), in the export's node order."""
    import numpy as np

    _, trees = _trees(model)
    counts = [n.get("internal_count", n.get("leaf_count", 0)) for nodes in trees for n in nodes]
    return np.array(counts, dtype=np.float64)

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
    if "split_index" in node and node["missing_type"] == "Zero":
        raise _refuse(model, "a zero-as-missing split (zero_as_missing=True)")


def _bitset(model: Any, categories: str) -> list[int]:
    """The 8-word bitset of a categorical split's left categories (``"0||3||6"``)."""
    words = [0] * 8
    for category in map(int, categories.split("||")):
        if not 0 <= category < 256:
            raise _refuse(model, f"a categorical split on category {category} (above 255)")
        words[category // 32] |= 1 << (category % 32)
    return words


def _nodes(model: Any, trees: list[list[dict[str, Any]]], n_features: int) -> dict[str, Any]:
    """The flat node arrays. A categorical split (``==``) sends the categories in its
    bitset left and every other value right, NaN and negative ones too: no category is
    "known", so they all take the missing way, right (``Tree::CategoricalDecision``)."""
    import numpy as np

    names = ("feature", "threshold", "left", "right", "missing_left", "values", "category")
    parts: dict[str, list[Any]] = {name: [] for name in (*names, "roots")}
    bitsets: list[list[int]] = []
    offset = 0
    for nodes in trees:
        where = {id(node): offset + i for i, node in enumerate(nodes)}
        parts["roots"].append(offset)
        columns: list[list[Any]] = [[] for _ in names]
        for node in nodes:
            _check_node(model, node)
            if "split_index" not in node:
                row = (0, 0.0, -1, -1, False, float(node["leaf_value"]), -1)
            else:
                children = (where[id(node["left_child"])], where[id(node["right_child"])])
                if node["decision_type"] == "==":
                    bitsets.append(_bitset(model, str(node["threshold"])))
                    split = (0.0, *children, False, 0.0, len(bitsets) - 1)
                else:
                    threshold = float(node["threshold"])
                    nan = node["default_left"] if node["missing_type"] == "NaN" else threshold >= 0
                    split = (threshold, *children, bool(nan), 0.0, -1)
                row = (node["split_feature"], *split)
            for column, value in zip(columns, row, strict=True):
                column.append(value)
        for name, column in zip(names, columns, strict=True):
            parts[name].append(column)
        offset += len(nodes)
    arrays = no_categories(offset, n_features) | join_parts(parts)
    categorical = categorical_features(arrays)
    numeric = (arrays["category"] < 0) & (arrays["left"] >= 0)
    if set(categorical) & set(arrays["feature"][numeric].tolist()):
        raise _refuse(model, "a feature with both categorical and numeric splits")
    if bitsets:
        arrays["left_bitsets"] = np.array(bitsets, dtype="<u4")
        arrays["known_bitsets"] = np.zeros((1, 8), dtype="<u4")
        arrays["known_index"][categorical] = 0
    return arrays


def categorical_features(arrays: dict[str, Any]) -> list[int]:
    """The features that categorical splits read."""
    return sorted(set(arrays["feature"][arrays["category"] >= 0].tolist()))


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
    if dump.get("pandas_categorical"):
        raise _refuse(model, "a pandas categorical column (encode it with an OrdinalEncoder)")
    arrays = _nodes(model, trees, int(model.n_features_in_))
    spec = {
        "kind": "boosting",
        "init": [0.0] * int(dump["num_tree_per_iteration"]),
        "link": _LINKS[objective],
        "classifier": hasattr(model, "classes_"),
        "label_if_zero": 0,
        "float32": False,
        "label_by_probability": True,
    }
    if truncated := categorical_features(arrays):
        spec["truncate"] = truncated  # LightGBM reads a category as ``int(value)``
    return spec, arrays


def booster_covers(model: Any) -> Any:
    """Each exported node's cover (``internal_count``/``leaf_count``, what
    ``shap.TreeExplainer`` weighs LightGBM's nodes by), in the export's node order."""
    import numpy as np

    _, trees = _trees(model)
    counts = [n.get("internal_count", n.get("leaf_count", 0)) for nodes in trees for n in nodes]
    return np.array(counts, dtype=np.float64)

"""XGBoost's ``gbtree`` models, from the booster's own JSON model (``save_raw("json")``).

XGBoost's CPU predictor rounds the input to float32, sends a row left when
``x < split_condition`` (float32), a missing value (NaN) the node's ``default_left`` way,
and adds the leaf values (learning rate already in them) in float32, tree by tree from the
base margin (``base_score``; for the logistic objectives through ``ProbToMargin``, which
xgboost itself computes at export), then transforms the margin in float32 (``_float32``).
``x < t`` for float32 ``x`` and ``t`` is ``x <= `` the float32 just below ``t``: the
threshold exported, compared exactly.
"""

from __future__ import annotations

import json
import math
from array import array
from typing import Any

from irisserve.scorers._forest import join_parts
from irisserve.scorers._spec import NotExportable
from irisserve.scorers.trees import no_categories

__all__ = ["booster_covers", "export_xgboost"]

#: Served objectives: the link, and whether ``base_score`` is a probability (its margin
#: is then ``-logf(1 / p - 1)``, ``_library_margin``) rather than already a margin.
_OBJECTIVES = {
    "binary:logistic": ("logistic", True),
    "reg:logistic": ("logistic", True),
    "multi:softprob": ("softmax", False),
    "reg:squarederror": ("identity", False),
    "reg:pseudohubererror": ("identity", False),
    "reg:absoluteerror": ("identity", False),
    "reg:quantileerror": ("identity", False),
}
_INSTEAD = "serve it through xgboost itself (the pickle, with xgboost installed in the function)"


def _refuse(model: Any, what: str) -> NotExportable:
    return NotExportable(
        f"{type(model).__name__}: {what} has no exact pickle-free export; {_INSTEAD}"
    )


def _learner(model: Any) -> dict[str, Any]:
    learner: dict[str, Any] = json.loads(bytes(model.get_booster().save_raw("json")))["learner"]
    return learner


def _trees(model: Any, learner: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """The trees ``predict`` uses, ordered one per output in turn, and the outputs' number."""
    booster = learner["gradient_booster"]
    if booster["name"] != "gbtree":
        raise _refuse(model, f"the {booster['name']} booster")
    trees, groups = booster["model"]["trees"], booster["model"]["tree_info"]
    best = learner.get("attributes", {}).get("best_iteration")
    if best is not None:  # the scikit-learn wrapper predicts with the best iteration's trees
        end = booster["model"]["iteration_indptr"][int(best) + 1]
        trees, groups = trees[:end], groups[:end]
    outputs = max(groups) + 1
    per_output = [[t for t, g in zip(trees, groups, strict=True) if g == k] for k in range(outputs)]
    if len({len(p) for p in per_output}) != 1:
        raise _refuse(model, "a model with unequal trees per class")
    for tree in trees:
        if int(tree["tree_param"]["size_leaf_vector"]) > 1:
            raise _refuse(model, 'a multi-output tree (multi_strategy="multi_output_tree")')
    if any(booster["model"].get("cats", {}).get("enc")):
        raise _refuse(model, "a model that re-encodes pandas categories")
    return [tree for stage in zip(*per_output, strict=True) for tree in stage], outputs


def _right_categories(tree: dict[str, Any]) -> dict[int, list[int]]:
    """Each categorical split's categories (the ones it sends right), by node."""
    starts, sizes = tree["categories_segments"], tree["categories_sizes"]
    return {
        node: tree["categories"][start : start + size]
        for node, start, size in zip(tree["categories_nodes"], starts, sizes, strict=True)
    }


def _nodes(model: Any, trees: list[dict[str, Any]], n_features: int) -> dict[str, Any]:
    """The flat node arrays. A categorical split sends its categories right and any other
    value left (``common::Decision``): its left bitset is every other category below 256,
    and every category is known."""
    import numpy as np

    parts: dict[str, list[Any]] = {name: [] for name in ("feature", "threshold", "left")}
    parts |= {"right": [], "missing_left": [], "roots": [], "values": [], "category": []}
    bitsets: list[Any] = []
    offset = 0
    for tree in trees:
        left = np.array(tree["left_children"], dtype=np.int64)
        leaf = left == -1
        condition = np.array(tree["split_conditions"], dtype=np.float32)
        below = np.nextafter(condition, np.float32(-np.inf))  # x < t  <=>  x <= below(t)
        category = np.full(len(left), -1)
        for node, right in _right_categories(tree).items():
            if max(right, default=0) >= 256:
                raise _refuse(model, f"a categorical split on category {max(right)} (above 255)")
            bits = np.ones(256, dtype=bool)
            bits[right] = False
            category[node] = len(bitsets)
            bitsets.append(np.packbits(bits, bitorder="little").view("<u4"))
        parts["roots"].append(offset)
        parts["feature"].append(np.where(leaf, 0, tree["split_indices"]))
        parts["threshold"].append(np.where(leaf, 0.0, below.astype(np.float64)))
        parts["left"].append(np.where(leaf, -1, left + offset))
        parts["right"].append(np.where(leaf, -1, np.array(tree["right_children"]) + offset))
        parts["missing_left"].append(np.array(tree["default_left"], dtype=np.uint8))
        parts["values"].append(np.where(leaf, condition.astype(np.float64), 0.0))
        parts["category"].append(category)
        offset += len(left)
    arrays = no_categories(offset, n_features) | join_parts(parts)
    if bitsets:
        arrays["left_bitsets"] = np.array(bitsets, dtype="<u4")
        arrays["known_bitsets"] = np.full((1, 8), 0xFFFFFFFF, dtype="<u4")
        arrays["known_index"][_categorical_features(arrays)] = 0
    return arrays


def _categorical_features(arrays: dict[str, Any]) -> list[int]:
    return sorted(set(arrays["feature"][arrays["category"] >= 0].tolist()))


def _unused_codes(model: Any, arrays: dict[str, Any]) -> list[list[int]]:
    """For each categorical feature, a category below 256 that no split sends right (what
    a value that is no category is read as: it goes left everywhere, as in XGBoost)."""
    import numpy as np

    pairs = []
    for feature in _categorical_features(arrays):
        splits = arrays["category"][(arrays["category"] >= 0) & (arrays["feature"] == feature)]
        left_everywhere = np.bitwise_and.reduce(arrays["left_bitsets"][splits], axis=0)
        bits = np.unpackbits(left_everywhere.view(np.uint8), bitorder="little")
        if not bits.any():
            raise _refuse(model, f"feature {feature}, whose splits use every category below 256")
        pairs.append([feature, int(np.argmax(bits))])
    return pairs


def _stump(tree: dict[str, Any]) -> dict[str, Any]:
    """A tree of one leaf worth 0, in XGBoost's JSON schema."""
    return {
        "id": 0,
        "tree_param": tree["tree_param"] | {"num_nodes": "1", "num_deleted": "0"},
        "left_children": [-1],
        "right_children": [-1],
        "parents": [2147483647],
        "split_indices": [0],
        "split_type": [0],
        "default_left": [0],
        "split_conditions": [0.0],
        "base_weights": [0.0],
        "loss_changes": [0.0],
        "sum_hessian": [1.0],
        "categories": [],
        "categories_nodes": [],
        "categories_segments": [],
        "categories_sizes": [],
    }


def _library_margin(model: Any) -> float:
    """The base margin as xgboost computes it from a probability ``base_score``:
    ``ProbToMargin`` is ``-logf(1.0f / p - 1.0f)`` with the C library's ``logf``, which
    is not correctly rounded (it differs from ``float32(log(x))`` for about 1 float in
    1,500). So xgboost itself predicts it, for the model with its trees replaced by one
    leaf worth 0 (export time only: the library is there, as the model is)."""
    import numpy as np
    import xgboost

    document = json.loads(bytes(model.get_booster().save_raw("json")))
    trees = document["learner"]["gradient_booster"]["model"]
    trees |= {"trees": [_stump(trees["trees"][0])], "tree_info": [0], "iteration_indptr": [0, 1]}
    trees["gbtree_model_param"] |= {"num_trees": "1", "num_parallel_tree": "1"}
    document["learner"]["attributes"] = {}
    booster = xgboost.Booster(model_file=bytearray(json.dumps(document).encode()))
    row = xgboost.DMatrix(np.full((1, int(model.n_features_in_)), np.nan))
    # validate_features=False: a model fitted on a DataFrame names its features; the row does not.
    return float(booster.predict(row, output_margin=True, validate_features=False)[0])


def _base_margin(
    model: Any, learner: dict[str, Any], outputs: int, probability: bool
) -> list[float]:
    """``base_score`` in margin space, float32, one per output."""
    if probability:
        return [_library_margin(model)]
    scores = json.loads(learner["learner_model_param"]["base_score"])
    scores = scores if isinstance(scores, list) else [scores]  # before xgboost 3: a number
    scores = scores * outputs if len(scores) == 1 else scores
    return [float(array("f", [score])[0]) for score in scores]


def export_xgboost(model: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The boosting spec and node arrays of a fitted ``XGBClassifier``/``XGBRegressor``."""
    if callable(getattr(model, "objective", None)):
        raise _refuse(model, "a custom objective")
    missing = getattr(model, "missing", math.nan)  # the wrapper's; a bare booster has NaN
    if missing is not None and not math.isnan(missing):
        raise _refuse(model, f"missing={missing!r} (only NaN is missing)")
    learner = _learner(model)
    objective = learner["objective"]["name"]
    if objective not in _OBJECTIVES:
        raise _refuse(model, f"objective {objective}")
    trees, outputs = _trees(model, learner)
    arrays = _nodes(model, trees, int(model.n_features_in_))
    if int(learner["learner_model_param"].get("num_target", "1")) > 1:
        raise _refuse(model, "a multi-target model")
    link, probability = _OBJECTIVES[objective]
    spec = {
        "kind": "boosting",
        "init": _base_margin(model, learner, outputs, probability),
        "link": link,
        "classifier": hasattr(model, "classes_"),
        "label_if_zero": 0,
        "float32": True,
        "float32_sum": True,
    }
    if invalid := _unused_codes(model, arrays):
        spec["invalid"] = invalid
    return spec, arrays


def booster_covers(model: Any) -> Any:
    """Each exported node's cover (``sum_hessian``, what ``shap.TreeExplainer`` weighs
    XGBoost's nodes by), in the export's node order."""
    import numpy as np

    trees, _ = _trees(model, _learner(model))
    return np.concatenate([np.array(t["sum_hessian"], dtype=np.float64) for t in trees])

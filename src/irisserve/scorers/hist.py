"""Histogram gradient boosting (``HistGradientBoostingClassifier``/``Regressor``).

Its trees compare the float64 input (no float32 rounding), route NaN by each node's
``missing_go_to_left``, and split native categorical features on bitsets; categorical
inputs first go through the estimator's own ``OrdinalEncoder`` (unknown categories become
NaN, so they take the missing-value branch). The raw score is ``0 + baseline`` plus every
iteration's leaf value in order, then the loss's link: scored by ``trees.Boosting``.
"""

from __future__ import annotations

from typing import Any

from irisserve.scorers._forest import join_parts
from irisserve.scorers._spec import NotExportable
from irisserve.scorers.preprocessing import export_steps

__all__ = ["export_hist"]

_LINKS = {"LogitLink": "logistic", "MultinomialLogit": "softmax", "IdentityLink": "identity"}
_LINKS |= {"LogLink": "exp"}


def _preprocessing(estimator: Any) -> list[dict[str, Any]]:
    """The estimator's categorical pre-encoding, as one ``columns`` step (or none)."""
    preprocessor = estimator._preprocessor
    if preprocessor is None:
        return []
    indices = preprocessor._transformer_to_input_indices
    parts = []
    for name, step, _ in preprocessor.transformers_:
        columns = [int(i) for i in indices[name]]
        if not columns or step == "drop":
            continue
        steps = export_steps(step) if type(step).__name__ == "OrdinalEncoder" else []
        parts.append({"columns": columns, "steps": steps})
    return [{"kind": "columns", "parts": parts}]


def _nodes(estimator: Any, n_features: int) -> dict[str, Any]:
    import numpy as np

    known, f_idx_map = estimator._bin_mapper.make_known_categories_bitsets()
    categorical = getattr(estimator, "_is_categorical_remapped", None)
    is_categorical = np.zeros(n_features, bool) if categorical is None else categorical
    parts: dict[str, list[Any]] = {name: [] for name in ("feature", "threshold", "left")}
    parts |= {"right": [], "missing_left": [], "category": [], "roots": [], "values": []}
    bitsets: list[Any] = []
    offset = 0
    for iteration in estimator._predictors:
        for predictor in iteration:
            nodes = predictor.nodes
            leaf = nodes["is_leaf"].astype(bool)
            parts["roots"].append(offset)
            parts["feature"].append(np.where(leaf, 0, nodes["feature_idx"]))
            parts["threshold"].append(nodes["num_threshold"])
            parts["left"].append(np.where(leaf, -1, nodes["left"].astype(np.int64) + offset))
            parts["right"].append(np.where(leaf, -1, nodes["right"].astype(np.int64) + offset))
            parts["missing_left"].append(nodes["missing_go_to_left"])
            split = ~leaf & nodes["is_categorical"].astype(bool)
            base = sum(len(b) for b in bitsets)
            parts["category"].append(
                np.where(split, nodes["bitset_idx"].astype(np.int64) + base, -1)
            )
            bitsets.append(predictor.raw_left_cat_bitsets)
            parts["values"].append(nodes["value"])
            offset += len(nodes)
    left_bitsets = np.concatenate(bitsets) if bitsets else np.zeros((0, 8))
    return join_parts(parts) | {
        "left_bitsets": left_bitsets.astype("<u4").reshape(-1, 8),
        "known_bitsets": np.asarray(known, dtype="<u4").reshape(-1, 8),
        "known_index": np.where(is_categorical, f_idx_map, -1).astype("<i4"),
    }


def export_hist(estimator: Any) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """Pre-encoding steps, the boosting spec and the node arrays of a fitted HGB model."""
    import numpy as np

    link = _LINKS.get(type(estimator._loss.link).__name__)
    if link is None:
        raise NotExportable(f"{type(estimator).__name__}: link {estimator._loss.link!r}")
    steps = _preprocessing(estimator)
    arrays = _nodes(estimator, estimator.n_features_in_)
    baseline = np.asarray(estimator._baseline_prediction, dtype=np.float64).ravel()
    spec = {
        "kind": "boosting",
        "init": (np.zeros(len(baseline)) + baseline).tolist(),
        "link": link,
        "classifier": hasattr(estimator, "classes_"),
        "label_if_zero": 0,
        "float32": False,
    }
    return steps, spec, arrays

"""Make a fitted estimator find its named columns by position, so serving needs no DataFrame.

A ``ColumnTransformer`` fitted on a DataFrame with columns named by string refuses a
numpy array ("Specifying the columns using strings is only supported for dataframes").
Packaging hands serving a copy in which every fitted ``ColumnTransformer`` (at any depth:
pipelines, unions, nested transformers) selects the same columns by index instead. Given
a DataFrame it still selects by name, so the copy answers both the same way; packaging
then checks its answers against the original's.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["positional"]


def _indices(transformer: Any, name: str, columns: Any) -> Any:
    if isinstance(columns, str) or (
        isinstance(columns, list) and any(isinstance(c, str) for c in columns)
    ):
        indices = [int(i) for i in transformer._transformer_to_input_indices[name]]
        return indices[0] if isinstance(columns, str) else indices
    return columns


def _rewrite(node: Any) -> None:
    fitted = getattr(node, "transformers_", None)
    if fitted is not None and hasattr(node, "_transformer_to_input_indices"):
        node.transformers_ = [
            (name, trans, _indices(node, name, columns)) for name, trans, columns in fitted
        ]
        for _, trans, _ in fitted:
            _rewrite(trans)
    for _, step in getattr(node, "steps", None) or ():
        _rewrite(step)
    for _, part in getattr(node, "transformer_list", None) or ():
        _rewrite(part)


def positional(estimator: Any) -> Any:
    """A deep copy of ``estimator`` whose column transformers select columns by index."""
    served = copy.deepcopy(estimator)
    _rewrite(served)
    return served

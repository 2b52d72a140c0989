"""Decision trees as flat node arrays, walked one row in Python or a batch in numpy.

One layout serves every tree family: all trees' nodes concatenated (``left``/``right`` are
global node indices, -1 at a leaf), ``roots`` the first node of each tree. A node sends a
row left when its value is ``<= threshold``; a missing value (NaN) goes where
``missing_left`` says; a categorical node (``category >= 0``, histogram gradient boosting)
sends known categories in its bitset left, other known ones right and unknown or negative
ones the missing way — as scikit-learn's ``tree/_tree.pyx`` and
``_hist_gradient_boosting/_predictor.pyx`` do. Forests and gradient boosting compare the
value rounded to float32 (``float32`` is set); histogram gradient boosting the float64.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from irisserve.scorers._npz import Array
from irisserve.scorers._spec import need

__all__ = ["NODE_ARRAYS", "Forest", "join_parts"]

#: How many (tree, row) walks advance together in a batch: enough to amortise numpy's
#: per-call cost, few enough that their arrays stay in the CPU cache.
_WALKS_AT_ONCE = 1 << 16

#: The node arrays every export holds, and their npy dtypes.
NODE_ARRAYS = {
    "feature": "<i4",
    "threshold": "<f8",
    "left": "<i4",
    "right": "<i4",
    "missing_left": "|u1",
    "category": "<i4",
    "roots": "<i4",
    "left_bitsets": "<u4",
    "known_bitsets": "<u4",
    "known_index": "<i4",
}


def join_parts(parts: dict[str, list[Any]]) -> dict[str, Any]:
    """Each node array's per-tree pieces concatenated in its npy dtype (``roots``: one int each)."""
    import numpy as np

    return {
        name: np.array(pieces, dtype="<i4")
        if name == "roots"
        else np.concatenate(pieces).astype(NODE_ARRAYS.get(name, "<f8"))
        for name, pieces in parts.items()
    }


@dataclass(frozen=True)
class Forest:
    """The node arrays of one or more trees."""

    arrays: dict[str, Array]
    n_features: int
    float32: bool
    _numpy: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        a = self.arrays
        count = len(a["feature"].flat)
        for name in ("threshold", "left", "right", "missing_left", "category"):
            need(len(a[name].flat) == count, f"node array {name} has the wrong length")
        need(len(a["roots"].flat) > 0, "an export needs at least one tree")
        need(all(0 <= r < count for r in a["roots"].flat), "a root is out of range")
        need(a["left_bitsets"].shape[1:] == (8,), "left_bitsets must have 8 words per row")
        need(a["known_bitsets"].shape[1:] == (8,), "known_bitsets must have 8 words per row")
        need(len(a["known_index"].flat) == self.n_features, "known_index: one per feature")
        n_left, n_known = a["left_bitsets"].shape[0], a["known_bitsets"].shape[0]
        need(all(-1 <= k < n_known for k in a["known_index"].flat), "bad known_index")
        for node, (left, right, feature, category) in enumerate(
            zip(a["left"].flat, a["right"].flat, a["feature"].flat, a["category"].flat, strict=True)
        ):
            if left == -1:
                need(right == -1, f"node {node}: a leaf has one child")
                continue
            # children after their parent: every walk ends
            need(node < left < count and node < right < count, f"node {node}: bad children")
            need(0 <= feature < self.n_features, f"node {node}: feature out of range")
            need(-1 <= category < n_left, f"node {node}: bitset out of range")
            known = a["known_index"].flat[feature]
            need(category == -1 or known >= 0, f"node {node}: categorical without categories")

    @cached_property
    def roots_list(self) -> list[int]:
        """The root node of each tree."""
        return list(self.arrays["roots"].flat)

    @cached_property
    def _has_categories(self) -> bool:
        return any(c >= 0 for c in self.arrays["category"].flat)

    def _categorical_left(self, node: int, value: float) -> bool:
        a = self.arrays
        if value < 0:
            return bool(a["missing_left"].flat[node])
        if value < 256:
            code = int(value)
            word, bit = divmod(code, 32)
            if (a["left_bitsets"].flat[a["category"].flat[node] * 8 + word] >> bit) & 1:
                return True
            known = a["known_index"].flat[a["feature"].flat[node]]
            if (a["known_bitsets"].flat[known * 8 + word] >> bit) & 1:
                return False
        return bool(a["missing_left"].flat[node])

    def walk(self, node: int, row: list[float]) -> int:
        """The leaf one row reaches from ``node``."""
        a = self.arrays
        left, right, feature = a["left"].flat, a["right"].flat, a["feature"].flat
        threshold, missing_left, category = (
            a["threshold"].flat,
            a["missing_left"].flat,
            a["category"].flat,
        )
        while (child := left[node]) != -1:
            value = row[feature[node]]
            if math.isnan(value):
                goes_left = bool(missing_left[node])
            elif category[node] >= 0:
                goes_left = self._categorical_left(node, value)
            else:
                goes_left = value <= threshold[node]
            node = child if goes_left else right[node]
        return node

    def numpy(self, name: str) -> Any:
        """A node array as numpy (cached)."""
        if name not in self._numpy:
            import numpy as np

            array = self.arrays[name]
            dtype = np.dtype(NODE_ARRAYS.get(name, "<f8"))
            self._numpy[name] = np.frombuffer(array.flat, dtype=dtype).reshape(array.shape)
        return self._numpy[name]

    @cached_property
    def _batch_layout(self) -> tuple[Any, Any, Any, int]:
        """Leaves made self-loops (threshold +inf, both children themselves), so every
        tree and row can take the same number of steps; and the deepest leaf's depth."""
        import numpy as np

        left, right = self.numpy("left").astype(np.int64), self.numpy("right").astype(np.int64)
        leaf = left == -1
        nodes = np.arange(len(left))
        children = np.column_stack([np.where(leaf, nodes, left), np.where(leaf, nodes, right)])
        threshold = np.where(leaf, np.inf, self.numpy("threshold"))
        depth, frontier = 0, self.numpy("roots").astype(np.int64)
        while True:
            frontier = frontier[~leaf[frontier]]
            if not frontier.size:
                break
            frontier = np.concatenate([left[frontier], right[frontier]])
            depth += 1
        return children.ravel(), threshold, self.numpy("feature").astype(np.int64), depth

    def walk_batch(self, matrix: Any) -> Any:
        """``(n_trees, n_rows)``: the leaf each tree sends each row of ``matrix`` to.

        A few trees at a time (their walks fit in the CPU cache), every walk takes one
        step per level together; walks that reached a leaf are set aside every few levels.
        """
        import numpy as np

        n_rows, width = matrix.shape
        values_of = np.ascontiguousarray(matrix).ravel()
        roots = self.numpy("roots").astype(np.int64)
        has_missing = bool(np.isnan(values_of).any())
        group = max(1, _WALKS_AT_ONCE // max(n_rows, 1))
        offsets = np.arange(n_rows, dtype=np.int64) * width
        leaves = [
            self._walk_group(values_of, offsets, roots[start : start + group], has_missing)
            for start in range(0, len(roots), group)
        ]
        return np.concatenate(leaves).reshape(len(roots), n_rows)

    def _walk_group(self, values_of: Any, offsets: Any, roots: Any, has_missing: bool) -> Any:
        import numpy as np

        children, threshold, feature, depth = self._batch_layout
        missing_left = self.numpy("missing_left").astype(bool)
        leaf = self.numpy("left") == -1
        leaves = np.empty(len(roots) * len(offsets), dtype=np.int64)
        # The walks in progress: node, output position and row offset of each (tree, row).
        current = np.repeat(roots, len(offsets))
        position = np.arange(len(current))
        offset = np.tile(offsets, len(roots))
        for level in range(depth):
            values = values_of.take(offset + feature.take(current))
            goes_left = values <= threshold.take(current)
            missing = np.isnan(values) if has_missing else np.zeros(len(values), dtype=bool)
            if has_missing:
                goes_left = np.where(missing, missing_left.take(current), goes_left)
            if self._has_categories:
                goes_left = self._categorical_batch(current, values, missing, goes_left)
            current = children.take(current * 2 + ~goes_left)
            if level % 4 == 3:  # set aside the walks that reached a leaf
                done = leaf.take(current)
                leaves[position[done]] = current[done]
                walking = ~done
                current, position, offset = current[walking], position[walking], offset[walking]
        leaves[position] = current
        return leaves

    def _categorical_batch(self, nodes: Any, values: Any, missing: Any, goes_left: Any) -> Any:
        import numpy as np

        category = self.numpy("category")[nodes]
        split = (category >= 0) & ~missing
        if not split.any():
            return goes_left
        values, nodes, category = values[split], nodes[split], category[split]
        fallback = self.numpy("missing_left")[nodes].astype(bool)
        code = np.where((values >= 0) & (values < 256), values, 256.0).astype(np.int64)
        word, bit = np.minimum(code // 32, 7), (code % 32).astype(np.uint32)
        known = self.numpy("known_index")[self.numpy("feature")[nodes]]
        in_left = (self.numpy("left_bitsets")[category, word] >> bit) & 1
        in_known = (self.numpy("known_bitsets")[known, word] >> bit) & 1
        small = code < 256
        result = np.where(
            small & (in_left == 1), True, np.where(small & (in_known == 1), False, fallback)
        )
        goes_left = goes_left.copy()
        goes_left[split] = np.where(values < 0, fallback, result)
        return goes_left

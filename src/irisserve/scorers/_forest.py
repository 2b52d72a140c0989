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
from functools import cached_property
from itertools import compress, repeat
from operator import add, lt, mul, ne, not_
from typing import Any, cast

from irisserve.scorers._npz import Array
from irisserve.scorers._spec import need

__all__ = ["NODE_ARRAYS", "Forest", "join_parts"]

#: How many (tree, row) walks advance together in a batch: enough to amortise numpy's
#: per-call cost, few enough that their arrays stay in the CPU cache.
_WALKS_AT_ONCE = 1 << 16
#: Walks that reached a leaf are set aside every this many levels (more often costs more
#: than walking them on: a leaf loops on itself), so trees this shallow never are.
_SET_ASIDE = 8

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
#: The per-node arrays every single row's walk reads, as Python lists (faster to index).
_WALKED = ("left", "right", "feature", "threshold")
#: The per-node arrays only rows with missing values or categorical splits read.
_GENERAL = ("missing_left", "category")
_CHILDREN = "an inner node needs two children after it (so every walk ends), a leaf none (-1)"


def join_parts(parts: dict[str, list[Any]]) -> dict[str, Any]:
    """Each node array's per-tree pieces concatenated in its npy dtype (``roots``: one int each)."""
    import numpy as np

    return {
        name: np.array(pieces, dtype="<i4")
        if name == "roots"
        else np.concatenate(pieces).astype(NODE_ARRAYS.get(name, "<f8"))
        for name, pieces in parts.items()
    }


def _check(forest: Forest) -> None:
    """Refuse node arrays that a walk could leave or loop in, with whole-list operations
    (a Python loop over every node would cost more than the rest of the load)."""
    arrays, count, nodes = forest.arrays, len(forest.left), range(len(forest.left))
    for name in _WALKED + _GENERAL:
        need(len(arrays[name].flat) == count, f"node array {name} has the wrong length")
    need(len(forest.roots) > 0, "an export needs at least one tree")
    need(min(forest.roots) >= 0 and max(forest.roots) < count, "a root is out of range")
    # A leaf has no children (-1, -1); an inner node has both, after itself (so every walk
    # ends) and in range. ``node < child`` holds exactly at inner nodes, for both children:
    inner = list(map(lt, nodes, forest.left))
    need(inner == list(map(lt, nodes, forest.right)), _CHILDREN)
    leaves = inner.count(False)
    need(forest.left.count(-1) == leaves == forest.right.count(-1), _CHILDREN)
    need(max(forest.left) < count and max(forest.right) < count, "a child is out of range")
    need(set(forest.feature) <= set(range(forest.n_features)), "a feature is out of range")
    for name in ("left_bitsets", "known_bitsets"):
        need(arrays[name].shape[1:] == (8,), f"{name} must have 8 words per row")
    n_left, n_known = arrays["left_bitsets"].shape[0], arrays["known_bitsets"].shape[0]
    need(len(forest.known_index) == forest.n_features, "known_index: one per feature")
    need(all(-1 <= k < n_known for k in forest.known_index), "bad known_index")
    if not forest.plain:
        category = forest.general[1]
        need(min(category) >= -1 and max(category) < n_left, "a bitset is out of range")
        splits = zip(forest.feature, category, strict=True)
        need(
            all(forest.known_index[f] >= 0 for f, c in splits if c >= 0),
            "a categorical split without categories",
        )


def _two_copies(row: list[float]) -> list[float]:
    """``row`` with NaN as -inf, then ``row`` with NaN as +inf."""
    low = [-math.inf if math.isnan(value) else value for value in row]
    return low + [math.inf if math.isnan(value) else value for value in row]


class Forest:
    """The node arrays of one or more trees, checked, and as the lists a single row walks."""

    def __init__(self, arrays: dict[str, Array], n_features: int, float32: bool) -> None:
        self.arrays, self.n_features, self.float32 = arrays, n_features, float32
        self._numpy: dict[str, Any] = {}
        self._leaf_values: dict[tuple[int, int], list[float]] = {}
        walked = [arrays[name].flat.tolist() for name in _WALKED]
        self.left, self.right, self.feature, self.threshold = walked
        self.roots: list[int] = arrays["roots"].flat.tolist()
        self.known_index: list[int] = arrays["known_index"].flat.tolist()
        category = arrays["category"].flat.tobytes()
        #: Whether no split is categorical: every ``category`` is -1 (all bits set).
        self.plain = category.count(b"\xff") == len(category)
        _check(self)

    @cached_property
    def general(self) -> tuple[list[int], list[int]]:
        """``missing_left`` and ``category`` as lists: only rows with missing values and
        forests with categorical splits need them."""
        missing_left, category = (self.arrays[name].flat.tolist() for name in _GENERAL)
        return missing_left, category

    @cached_property
    def _sided(self) -> list[int] | None:
        """Each node's feature, plus ``n_features`` where a missing value goes right (a row
        with missing values is walked as two copies, see ``leaves``); None if an inner
        node's threshold is not finite (then that walk would not be exact)."""
        inner = list(map(ne, self.left, repeat(-1)))
        if not all(map(math.isfinite, compress(self.threshold, inner))):
            return None
        right = map(mul, map(not_, self.general[0]), repeat(self.n_features))
        return list(map(add, self.feature, right))

    def leaves(self, row: list[float]) -> list[int]:
        """The leaf each tree sends one row to (``row`` as the trees compare it)."""
        feature = self.feature
        if not self.plain:
            return self._general_leaves(row)
        if any(map(math.isnan, row)):
            # NaN read as -inf goes left at every finite threshold, as +inf right: a node
            # reads the copy of the row its missing values go to (exact without infinities).
            sided = self._sided
            if sided is None or any(map(math.isinf, row)):
                return self._general_leaves(row)
            row, feature = _two_copies(row), sided
        # The plain walk: no missing value and no categorical split, so a node sends the
        # row left exactly when ``value <= threshold``.
        left, right, threshold = self.left, self.right, self.threshold
        found = []
        for root in self.roots:
            node = root
            while (child := left[node]) != -1:
                node = child if row[feature[node]] <= threshold[node] else right[node]
            found.append(node)
        return found

    def _general_leaves(self, row: list[float]) -> list[int]:
        """``leaves``, for a row with missing values or a forest with categorical splits."""
        left, right, feature, threshold = self.left, self.right, self.feature, self.threshold
        missing_left, category = self.general
        found = []
        for root in self.roots:
            node = root
            while (child := left[node]) != -1:
                value = row[feature[node]]
                if value != value:  # noqa: PLR0124 (NaN, the missing value)
                    goes_left = missing_left[node]
                elif category[node] >= 0:
                    goes_left = self._categorical_left(node, value)
                else:
                    goes_left = value <= threshold[node]
                node = child if goes_left else right[node]
            found.append(node)
        return found

    def _categorical_left(self, node: int, value: float) -> bool:
        if 0 <= value < 256:
            word, bit = divmod(int(value), 32)
            category = self.general[1][node]
            if (self.arrays["left_bitsets"].flat[category * 8 + word] >> bit) & 1:
                return True
            known = self.known_index[self.feature[node]]
            if (self.arrays["known_bitsets"].flat[known * 8 + word] >> bit) & 1:
                return False
        return bool(self.general[0][node])

    def leaf_values(self, width: int, column: int) -> list[float]:
        """Column ``column`` of the ``(nodes, width)`` leaf values, as a list (made on the
        first row that asks: a list is indexed several times faster than the memoryview)."""
        key = (width, column)
        if key not in self._leaf_values:
            column_values = self.arrays["values"].flat[column::width].tolist()  # floats
            self._leaf_values[key] = cast(list[float], column_values)
        return self._leaf_values[key]

    def numpy(self, name: str) -> Any:
        """A node array as numpy (cached)."""
        if name not in self._numpy:
            import numpy as np

            array = self.arrays[name]
            dtype = np.dtype(NODE_ARRAYS.get(name, "<f8"))
            self._numpy[name] = np.frombuffer(array.flat, dtype=dtype).reshape(array.shape)
        return self._numpy[name]

    @cached_property
    def _batch_layout(self) -> dict[str, Any]:
        """The node arrays as a batch walks them: leaves made self-loops (both children
        themselves, threshold +inf), so every walk can take the same steps; ``children``
        the left then the right child of each node; the deepest leaf's ``depth``;
        ``sided`` each node's feature, plus ``n_features`` where a missing value goes right
        (see ``walk_batch``), and whether every inner threshold is ``finite``."""
        import numpy as np

        left, right = self.numpy("left").astype(np.intp), self.numpy("right").astype(np.intp)
        leaf = left == -1
        nodes = np.arange(len(left))
        children = np.column_stack([np.where(leaf, nodes, left), np.where(leaf, nodes, right)])
        depth, frontier = 0, self.numpy("roots").astype(np.intp)
        while True:
            frontier = frontier[~leaf[frontier]]
            if not frontier.size:
                break
            frontier = np.concatenate([left[frontier], right[frontier]])
            depth += 1
        feature = self.numpy("feature").astype(np.intp)
        missing_right = self.numpy("missing_left") == 0
        return {
            "children": children.ravel(),
            "threshold": np.where(leaf, np.inf, self.numpy("threshold")),
            "feature": feature,
            "sided": feature + self.n_features * (missing_right & ~leaf),
            "finite": bool(np.isfinite(self.numpy("threshold")[~leaf]).all()),
            "leaf": leaf,
            "missing_right": missing_right,
            "depth": depth,
        }

    def walk_batch(self, matrix: Any) -> Any:
        """``(n_trees, n_rows)``: the leaf each tree sends each row of ``matrix`` to.

        A few trees at a time (their walks fit in the CPU cache), every walk takes one
        step per level together; walks that reached a leaf are set aside every few levels.
        Without categorical splits a missing value costs no step of its own: each row is
        read from two copies, NaN made -inf in the first (it goes left at every finite
        threshold) and +inf in the second (right), and a node whose missing values go
        right reads the second (``sided``) — exact while the batch holds no infinity.
        """
        import numpy as np

        n_rows, width = matrix.shape
        layout = self._batch_layout
        values_of = np.ascontiguousarray(matrix, dtype=np.float64)
        missing = np.isnan(values_of)
        general = not self.plain
        feature = layout["feature"]
        if not general and missing.any():
            if layout["finite"] and not np.isinf(values_of).any():
                values_of = np.hstack(
                    [np.where(missing, -np.inf, values_of), np.where(missing, np.inf, values_of)]
                )
                feature, width = layout["sided"], 2 * width
            else:
                general = True
        values_of = values_of.ravel()
        roots = self.numpy("roots").astype(np.intp)
        group = max(1, _WALKS_AT_ONCE // max(n_rows, 1))
        offsets = np.arange(n_rows, dtype=np.intp) * width
        leaves = np.empty((len(roots), n_rows), dtype=np.intp)
        for start in range(0, len(roots), group):
            group_leaves = leaves[start : start + group].ravel()
            group_roots = roots[start : start + group]
            self._walk_group(
                values_of, offsets, group_roots, group_leaves, feature=feature, general=general
            )
        return leaves

    def _walk_group(
        self, values_of: Any, offsets: Any, roots: Any, leaves: Any, *, feature: Any, general: bool
    ) -> None:
        import numpy as np

        layout = self._batch_layout
        children, threshold = layout["children"], layout["threshold"]
        # The walks in progress: node, output position and row offset of each (tree, row).
        current = np.repeat(roots, len(offsets))
        position = np.arange(len(current))
        offset = np.tile(offsets, len(roots))
        index, values = np.empty_like(current), np.empty(len(current))
        bound, goes_right = np.empty(len(current)), np.empty_like(current)
        last = layout["depth"] - 1
        for level in range(layout["depth"]):
            n = len(current)
            feature.take(current, out=index[:n], mode="clip")
            index[:n] += offset
            values_of.take(index[:n], out=values[:n], mode="clip")
            threshold.take(current, out=bound[:n], mode="clip")
            right = np.greater(values[:n], bound[:n], out=goes_right[:n])  # NaN: 0
            if general:
                right = self._general_batch(current, values[:n], right)
            current <<= 1  # each node's children are at 2 * node (left) and 2 * node + 1
            current += right
            children.take(current, out=current, mode="clip")
            if level % _SET_ASIDE == _SET_ASIDE - 1 and level < last:  # set aside finished
                done = layout["leaf"].take(current)
                leaves[position[done]] = current[done]
                walking = ~done
                current, position, offset = current[walking], position[walking], offset[walking]
        leaves[position] = current

    def _general_batch(self, current: Any, values: Any, goes_right: Any) -> Any:
        """``goes_right`` where values are missing or at a categorical split."""
        import numpy as np

        missing = np.isnan(values)
        goes_right = np.where(
            missing, self._batch_layout["missing_right"].take(current), goes_right
        )
        if not self.plain:
            self._categorical_batch(current, values, missing, goes_right)
        return goes_right

    def _categorical_batch(
        self, nodes: Any, values: Any, missing: Any | None, goes_right: Any
    ) -> None:
        """Set ``goes_right`` where a walk is at a categorical split (and not missing)."""
        import numpy as np

        category = self.numpy("category").take(nodes)
        split = category >= 0
        if missing is not None:
            split &= ~missing
        if not split.any():
            return
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
        goes_right[split] = ~np.where(values < 0, fallback, result)

"""Path-dependent Tree SHAP (Lundberg et al. 2020, Algorithm 2) over flat node arrays.

Every root-to-leaf path of every tree is a small game: ``f(S) = v * prod(o_j, j in S) *
prod(z_j, j not in S)`` over the path's distinct features, where ``z_j`` is the share of
training cover that follows the path at ``j``'s splits and ``o_j`` is 1 when the row
does. Tree SHAP's values are the sum of these games' Shapley values, which its EXTEND and
UNWIND recurrences give in ``O(depth²)``. Here they run for many (path, row) pairs at once
in numpy: paths grouped by their number of distinct features ``d``, in fixed blocks, each
operation elementwise, and every contribution added in path order (``numpy.bincount``), so a
row's values do not depend on the rows explained beside it. A row only chooses which of the
``2 ** d`` ways to follow a path it takes, so a block with more rows than ways computes all
the ways once (the same operations, so the same bits) and looks each row's up. The node arrays are
``irisserve.scorers._forest``'s layout; a row takes a node's branch as the scorer does
(float32 rounding, ``missing_left``, categorical bitsets). Any model given as those
arrays plus a cover per node (training samples, or their weights) can be explained.
``forest`` is a fast export's ``Forest`` (``Trees.forest``, ``Boosting.forest``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["TreeShap"]

#: Paths explained together: fixed, so a row's sums are added in the same order always.
_PATHS_AT_ONCE = 512
#: (path, row) pairs in one block: rows are taken in chunks of this over the paths.
_PAIRS_AT_ONCE = 1 << 18


@dataclass(frozen=True)
class _Group:
    """Paths with ``depth`` distinct features each, in tree order."""

    depth: int
    feature: Any  # (paths, depth) int: the distinct features, in path order
    zero: Any  # (paths, depth) float: their cover shares
    value: Any  # (paths, width) float: the leaf's values (already scaled)
    output: Any  # (paths, width) int: the output each value adds to
    split_node: Any  # (depth, paths, splits) each slot's split nodes (-1: none more)...
    split_left: Any  # (depth, paths, splits) ...and whether the path goes left there


def _paths(
    forest: Any, cover: list[float]
) -> list[tuple[int, int, list[tuple[int, float, list[tuple[int, bool]]]]]]:
    """Every (tree, leaf, distinct features on its path: (feature, cover share, splits))."""
    left, right, feature = forest.left, forest.right, forest.feature
    found = []
    for tree, root in enumerate(forest.roots):
        stack: list[tuple[int, tuple[tuple[int, bool], ...]]] = [(root, ())]
        while stack:
            node, steps = stack.pop()
            if left[node] != -1:
                stack.append((right[node], (*steps, (node, False))))
                stack.append((left[node], (*steps, (node, True))))
                continue
            slots: dict[int, tuple[float, list[tuple[int, bool]]]] = {}
            for split, went_left in steps:
                child = left[split] if went_left else right[split]
                share = cover[child] / cover[split]
                zero, splits = slots.get(feature[split], (1.0, []))
                slots[feature[split]] = (share * zero, [*splits, (split, went_left)])
            found.append((tree, node, [(f, z, s) for f, (z, s) in slots.items()]))
    return found


class TreeShap:
    """Tree SHAP of a forest: ``values`` ``(nodes, width)`` already scaled as the model adds
    them, tree ``t`` adding to outputs ``offset[t] + 0..width-1`` of ``n_outputs``; ``init``
    the constant each output starts from."""

    def __init__(
        self,
        forest: Any,
        cover: Any,
        values: Any,
        offset: list[int],
        init: list[float],
    ) -> None:
        import numpy as np

        self.forest, self.n_outputs = forest, len(init)
        cover_list = np.asarray(cover, dtype=np.float64).tolist()
        width = values.shape[1]
        paths = _paths(forest, cover_list)
        roots = forest.roots
        baseline = np.asarray(init, dtype=np.float64).copy()
        for tree, leaf, _ in paths:  # the expected value: leaves weighted by cover, in order
            share = cover_list[leaf] / cover_list[roots[tree]]
            for k in range(width):
                baseline[offset[tree] + k] += values[leaf, k] * share
        self.baseline = baseline
        self.groups = [
            _group(depth, [p for p in paths if len(p[2]) == depth], values, offset)
            for depth in sorted({len(p[2]) for p in paths} - {0})
        ]

    def explain(self, matrix: Any) -> Any:
        """``(features, outputs, rows)`` attributions of the rows of ``matrix`` (the
        columns the trees read, NaN for missing)."""
        import numpy as np

        n_rows = matrix.shape[0]
        phi = np.zeros((self.forest.n_features, self.n_outputs, n_rows))
        rows_at_once = max(1, _PAIRS_AT_ONCE // _PATHS_AT_ONCE)
        with np.errstate(divide="ignore", invalid="ignore"):
            for start in range(0, n_rows, rows_at_once):
                block = matrix[start : start + rows_at_once]
                goes_left = _goes_left(self.forest, block)
                for group in self.groups:
                    _explain_group(group, goes_left, phi[:, :, start : start + len(block)])
        return phi


def _group(depth: int, paths: list[Any], values: Any, offset: list[int]) -> _Group:
    import numpy as np

    width = values.shape[1]
    most = max(len(splits) for _, _, slots in paths for _, _, splits in slots)
    split_node = np.full((depth, len(paths), most), -1, dtype=np.int64)
    split_left = np.ones((depth, len(paths), most), dtype=bool)
    for p, (_, _, slots) in enumerate(paths):
        for slot, (_, _, splits) in enumerate(slots):
            for k, (node, went_left) in enumerate(splits):
                split_node[slot, p, k], split_left[slot, p, k] = node, went_left
    leaves = np.array([leaf for _, leaf, _ in paths], dtype=np.int64)
    first = np.array([offset[tree] for tree, _, _ in paths], dtype=np.int64)
    return _Group(
        depth=depth,
        feature=np.array([[f for f, _, _ in s] for _, _, s in paths], dtype=np.int64),
        zero=np.array([[z for _, z, _ in s] for _, _, s in paths], dtype=np.float64),
        value=values[leaves],
        output=first[:, None] + np.arange(width)[None, :],
        split_node=split_node,
        split_left=split_left,
    )


def _goes_left(forest: Any, block: Any) -> Any:
    """``(nodes, rows)``: whether each row goes left at each node, as the scorer routes it."""
    import numpy as np

    values = block.astype(np.float32) if forest.float32 else block
    values = np.asarray(values, dtype=np.float64).T[forest.numpy("feature")]  # (nodes, rows)
    threshold = forest.numpy("threshold")[:, None]
    missing_left = forest.numpy("missing_left").astype(bool)[:, None]
    missing = np.isnan(values)
    left = np.where(missing, missing_left, values <= threshold)
    if not forest.plain:
        category = forest.numpy("category")
        nodes = np.flatnonzero(category >= 0)
        left[nodes] = _categorical_left(forest, nodes, values[nodes], missing_left[nodes])
    return np.vstack([left, np.ones((1, left.shape[1]), dtype=bool)])  # index -1: padding


def _categorical_left(forest: Any, nodes: Any, values: Any, missing_left: Any) -> Any:
    """At categorical splits: known categories in the left bitset go left, other known ones
    right, unknown, negative and missing ones the missing way."""
    import numpy as np

    code = np.where((values >= 0) & (values < 256), values, 256.0)
    code = np.nan_to_num(code, nan=256.0).astype(np.int64)
    word, bit = np.minimum(code // 32, 7), (code % 32).astype(np.uint32)
    category = forest.numpy("category")[nodes][:, None]
    known = forest.numpy("known_index")[forest.numpy("feature")[nodes]][:, None]
    in_left = (forest.numpy("left_bitsets")[category, word] >> bit) & 1 == 1
    in_known = (forest.numpy("known_bitsets")[np.maximum(known, 0), word] >> bit) & 1 == 1
    small = code < 256
    return np.where(small & in_left, True, np.where(small & in_known, False, missing_left))


def _explain_group(group: _Group, goes_left: Any, phi: Any) -> None:
    for start in range(0, len(group.feature), _PATHS_AT_ONCE):
        block = slice(start, start + _PATHS_AT_ONCE)
        one = _one_fractions(group, block, goes_left)  # (depth, paths, rows) bool
        if one.shape[2] > 1 << group.depth:  # more rows than ways to follow the path
            contributions = _looked_up(group, block, one)
        else:
            contributions = _shapley(group.depth, group.zero[block], one)
        _add(group, block, contributions, phi)


def _looked_up(group: _Group, block: slice, one: Any) -> Any:
    """``_shapley`` of every way a row can follow the block's paths (``2 ** depth``, computed
    with the same operations, so the same bits), then each row's."""
    import numpy as np

    depth, n_paths = group.depth, one.shape[1]
    ways = np.arange(1 << depth)
    follows = (ways[None, :] >> np.arange(depth)[:, None]) & 1 == 1  # (depth, ways)
    every = np.broadcast_to(follows[:, None, :], (depth, n_paths, len(ways)))
    table = _shapley(depth, group.zero[block], every)  # (depth, paths, ways)
    way = np.zeros(one.shape[1:], dtype=np.int64)
    for slot in range(depth):
        way |= one[slot].astype(np.int64) << slot
    return np.take_along_axis(table, np.broadcast_to(way, one.shape), axis=2)


def _shapley(depth: int, zero: Any, one: Any) -> Any:
    """``(depth, paths, rows)``: each slot's Shapley value on each path, per unit leaf value:
    EXTEND every distinct feature onto the paths, then UNWIND each."""
    import numpy as np

    n_paths, n_rows = one.shape[1:]
    zeros = [zero[:, slot, None] for slot in range(depth)]  # (paths, 1) each
    weights = [np.ones((n_paths, n_rows))]
    for length in range(1, depth + 1):  # EXTEND with slot ``length - 1``
        hot, z = one[length - 1], zeros[length - 1]
        weights.append(np.zeros((n_paths, n_rows)))
        for i in range(length - 1, -1, -1):
            weights[i + 1] = weights[i + 1] + np.where(hot, weights[i], 0.0) * (
                (i + 1) / (length + 1)
            )
            weights[i] = weights[i] * z * ((length - i) / (length + 1))
    # UNWIND a slot the row does not follow: sum(w[j] * (depth + 1) / (depth - j)) / z,
    # the same sum for every slot; one it follows: the recurrence, in its z.
    skipped = np.zeros((n_paths, n_rows))
    for j in range(depth - 1, -1, -1):
        skipped = skipped + weights[j] * ((depth + 1) / (depth - j))
    found = []
    for slot in range(depth):
        hot, z = one[slot], zeros[slot]
        following, total = weights[depth], np.zeros((n_paths, n_rows))
        for j in range(depth - 1, -1, -1):
            passed = following * ((depth + 1) / (j + 1))
            total = total + passed
            following = weights[j] - passed * (z * ((depth - j) / (depth + 1)))
        total = np.where(hot, total, skipped / z)
        share = np.where(hot, 1.0 - z, -z)
        found.append(np.where(share == 0.0, 0.0, total * share))  # 0 * inf: no share
    return np.stack(found)


def _add(group: _Group, block: slice, contributions: Any, phi: Any) -> None:
    """Add each slot's value times the leaf's onto its feature and outputs, in (slot, path,
    output) order: ``bincount`` sums its input in order, so each row's sums are the same
    whatever rows are beside it."""
    import numpy as np

    n_rows, n_outputs = contributions.shape[2], phi.shape[1]
    value = group.value[block][None, :, :, None]  # (1, paths, width, 1)
    found = contributions[:, :, None, :] * value  # (depth, paths, width, rows)
    target = group.feature[block].T[:, :, None] * n_outputs + group.output[block][None]
    cells = target[..., None] * n_rows + np.arange(n_rows)
    size = phi.shape[0] * n_outputs * n_rows
    phi += np.bincount(cells.ravel(), found.ravel(), size).reshape(phi.shape)


def _one_fractions(group: _Group, block: slice, goes_left: Any) -> Any:
    """``(depth, paths, rows)``: whether the row follows the path at every split of a slot
    (``goes_left``'s last row, for the padding, is all true)."""
    nodes, left = group.split_node[:, block], group.split_left[:, block]
    follows = goes_left[nodes] == left[..., None]  # (depth, paths, splits, rows)
    return follows.all(axis=2)

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

from irisserve.explain.paths import paths

__all__ = ["TreeShap"]

#: Paths explained together: fixed, so a row's sums are added in the same order always.
_PATHS_AT_ONCE = 512
#: (path, row) pairs in one block: rows are taken in chunks of this over the paths.
_PAIRS_AT_ONCE = 1 << 18


@dataclass(frozen=True)
class _Group:
    """Paths with ``depth`` distinct features each, in leaf order."""

    depth: int
    feature: Any  # (paths, depth) int: the distinct features, in path order
    zero: Any  # (paths, depth) float: their cover shares
    value: Any  # (paths, width) float: the leaf's values (already scaled)
    output: Any  # (paths,) int: the first output the values add to
    split_node: Any  # (depth, paths, splits) each slot's split nodes (-1: none more)...
    split_left: Any  # (depth, paths, splits) ...and whether the path goes left there


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
        cover = np.asarray(cover, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            found = paths(forest, cover)
        first = np.asarray(offset, dtype=np.int64)[found.tree]
        width = values.shape[1]
        # the expected value: each leaf's values weighted by its cover share, in leaf order
        share = cover[found.leaf] / cover[forest.numpy("roots").astype(np.int64)[found.tree]]
        baseline = np.asarray(init, dtype=np.float64).copy()
        np.add.at(baseline, first[:, None] + np.arange(width), values[found.leaf] * share[:, None])
        self.baseline = baseline
        self.groups = [
            _Group(
                depth=depth,
                feature=found.feature[chosen, :depth],
                zero=found.zero[chosen, :depth],
                value=values[found.leaf[chosen]],
                output=first[chosen],
                split_node=found.split_node[chosen, :depth].transpose(1, 0, 2),
                split_left=found.split_left[chosen, :depth].transpose(1, 0, 2),
            )
            for depth in sorted(set(found.depth.tolist()) - {0})
            for chosen in [found.depth == depth]
        ]
        inner, feature = forest.numpy("left") != -1, forest.numpy("feature")
        self.by_feature = [np.flatnonzero(inner & (feature == f)) for f in range(forest.n_features)]

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
                goes_left = _goes_left(self.forest, self.by_feature, block)
                for group in self.groups:
                    _explain_group(group, goes_left, phi[:, :, start : start + len(block)])
        return phi


def _goes_left(forest: Any, by_feature: list[Any], block: Any) -> Any:
    """``(nodes + 1, rows)``: whether each row goes left at each inner node, as the scorer
    routes it (``by_feature``: each feature's inner nodes; the last row, padding, and
    leaves' rows are all true)."""
    import numpy as np

    values = block.astype(np.float32) if forest.float32 else block
    values = np.asarray(values, dtype=np.float64)
    threshold, feature = forest.numpy("threshold"), forest.numpy("feature")
    missing_left = forest.numpy("missing_left").astype(bool)
    left = np.ones((len(threshold) + 1, len(values)), dtype=bool)
    for column, nodes in enumerate(by_feature):
        row_values = values[:, column]
        found = np.greater_equal.outer(threshold[nodes], row_values)  # value <= threshold
        missing = np.isnan(row_values)
        if missing.any():
            found = np.where(missing, missing_left[nodes, None], found)
        left[nodes] = found
    if not forest.plain:
        nodes = np.flatnonzero(forest.numpy("category") >= 0)
        at = values.T[feature[nodes]]
        left[nodes] = _categorical_left(forest, nodes, at, missing_left[nodes, None])
    return left


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
    import numpy as np

    for start in range(0, len(group.feature), _PATHS_AT_ONCE):
        block = slice(start, start + _PATHS_AT_ONCE)
        one = _one_fractions(group, block, goes_left)  # (depth, paths, rows) bool
        if one.shape[2] > 1 << group.depth:  # more rows than ways to follow the path
            table, column = _looked_up(group, block, one)
        else:
            table = _shapley(group.depth, group.zero[block], one)
            column = np.broadcast_to(np.arange(one.shape[2]), one.shape[1:])
        _add(group, block, table, column, phi)


def _looked_up(group: _Group, block: slice, one: Any) -> tuple[Any, Any]:
    """``_shapley`` of every way a row can follow the block's paths (``2 ** depth``, computed
    with the same operations, so the same bits), and the way each row takes on each path."""
    import numpy as np

    depth, n_paths = group.depth, one.shape[1]
    ways = np.arange(1 << depth)
    follows = (ways[None, :] >> np.arange(depth)[:, None]) & 1 == 1  # (depth, ways)
    every = np.broadcast_to(follows[:, None, :], (depth, n_paths, len(ways)))
    table = _shapley(depth, group.zero[block], every)  # (depth, paths, ways)
    way = np.zeros(one.shape[1:], dtype=np.int64)
    for slot in range(depth):
        way |= one[slot].astype(np.int64) << slot
    return table, way


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


def _add(group: _Group, block: slice, table: Any, column: Any, phi: Any) -> None:
    """Add each slot's value (``table[slot, path, column[path, row]]``) times the leaf's
    onto its feature and outputs: per (feature, first output), the block's paths in order,
    summed pairwise in a fixed tree (``_pairwise``), so each row's sums are the same
    whatever rows are beside it."""
    import numpy as np

    n_paths, n_columns = table.shape[1:]
    flat = table.reshape(-1)
    feature, output = group.feature[block], group.output[block]
    value, width = group.value[block], group.value.shape[1]
    key = feature * phi.shape[1] + output[:, None]  # (paths, depth)
    for target in np.unique(key).tolist():
        path, slot = np.nonzero(key == target)  # path order; a path has a feature once
        cells = (slot * n_paths + path)[:, None] * n_columns + column[path]
        found = flat[cells][:, None, :] * value[path][:, :, None]  # (entries, width, rows)
        first = target % phi.shape[1]
        phi[target // phi.shape[1], first : first + width] += _pairwise(found)


def _pairwise(terms: Any) -> Any:
    """The sum over the first axis, halves added elementwise until one is left: the order
    depends only on how many terms there are."""
    while len(terms) > 1:
        half = len(terms) // 2
        top = terms[:half] + terms[half : 2 * half]
        if len(terms) % 2:
            top[-1] += terms[-1]
        terms = top
    return terms[0]


def _one_fractions(group: _Group, block: slice, goes_left: Any) -> Any:
    """``(depth, paths, rows)``: whether the row follows the path at every split of a slot
    (``goes_left``'s last row, for the padding, is all true)."""
    nodes, left = group.split_node[:, block], group.split_left[:, block]
    follows = goes_left[nodes] == left[..., None]  # (depth, paths, splits, rows)
    return follows.all(axis=2)

"""Every root-to-leaf path of a forest's flat node arrays, with whole-array operations.

A path is read from its leaf up (one numpy step per level for all leaves at once), then
root to leaf: its distinct features in the order they are first split on, each one's
cover share (the product of ``cover[child] / cover[node]`` over its splits, in path
order) and its splits (node, whether the path goes left). Paths are in leaf order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Paths", "paths"]


@dataclass(frozen=True)
class Paths:
    """One row per leaf; ``slots`` columns, used up to ``depth`` (the distinct features)."""

    leaf: Any  # (paths,) the leaf's node
    tree: Any  # (paths,) its tree
    depth: Any  # (paths,) how many distinct features the path splits on
    feature: Any  # (paths, slots) those features, in first-split order (-1: none)
    zero: Any  # (paths, slots) their cover shares (1.0: none)
    split_node: Any  # (paths, slots, splits) each feature's split nodes (-1: none more)...
    split_left: Any  # (paths, slots, splits) ...and whether the path goes left there


def _steps(forest: Any) -> tuple[Any, Any, Any]:
    """The leaves, and ``(leaves, levels)``: each step of their paths from the root, its
    node and the child taken (-1 before a shallower leaf's root)."""
    import numpy as np

    left = forest.numpy("left").astype(np.int64)
    right = forest.numpy("right").astype(np.int64)
    inner = np.flatnonzero(left != -1)
    parent = np.full(len(left) + 1, -1, dtype=np.int64)  # index -1: the root's "parent"
    parent[left[inner]], parent[right[inner]] = inner, inner
    leaves = np.flatnonzero(left == -1)
    nodes, children, child = [], [], leaves
    while True:
        node = parent[child]
        if (node == -1).all():
            break
        nodes.append(node)
        children.append(np.where(node == -1, -1, child))
        child = node

    def by_leaf(levels: list[Any]) -> Any:  # (leaves, levels), even with no level at all
        return np.array(levels[::-1], dtype=np.int64).T.reshape(len(leaves), len(levels))

    return leaves, by_leaf(nodes), by_leaf(children)


def paths(forest: Any, cover: Any) -> Paths:
    """The forest's paths, from each node's cover."""
    import numpy as np

    leaves, nodes, children = _steps(forest)
    n_paths, levels = nodes.shape
    rows = np.arange(n_paths)
    valid = nodes >= 0
    feature = np.where(valid, forest.numpy("feature").astype(np.int64)[nodes], -1)
    share = cover[children] / cover[nodes]
    slot_of = np.full((n_paths, forest.n_features + 1), -1, dtype=np.int64)  # +1: padding
    used = np.zeros(n_paths, dtype=np.int64)
    features = np.full((n_paths, levels), -1, dtype=np.int64)
    zero = np.ones((n_paths, levels))
    count = np.zeros((n_paths, levels), dtype=np.int64)
    split_node = np.full((n_paths, levels, levels), -1, dtype=np.int64)
    split_left = np.ones((n_paths, levels, levels), dtype=bool)
    went_left = children == forest.numpy("left").astype(np.int64)[nodes]
    for level in range(levels):
        at, f = rows[valid[:, level]], feature[valid[:, level], level]
        new = slot_of[at, f] == -1
        slot_of[at[new], f[new]] = used[at[new]]
        features[at[new], used[at[new]]] = f[new]
        used[at[new]] += 1
        slot = slot_of[at, f]
        zero[at, slot] = share[at, level] * zero[at, slot]
        split_node[at, slot, count[at, slot]] = nodes[at, level]
        split_left[at, slot, count[at, slot]] = went_left[at, level]
        count[at, slot] += 1
    slots, splits = max(int(used.max(initial=0)), 1), max(int(count.max(initial=0)), 1)
    roots = forest.numpy("roots").astype(np.int64)
    return Paths(
        leaf=leaves,
        tree=np.searchsorted(roots, leaves, side="right") - 1,
        depth=used,
        feature=features[:, :slots],
        zero=zero[:, :slots],
        split_node=split_node[:, :slots, :splits],
        split_left=split_left[:, :slots, :splits],
    )

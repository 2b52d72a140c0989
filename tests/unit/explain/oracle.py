"""A brute-force oracle: path-dependent Tree SHAP by its definition (Lundberg et al., Alg. 1).

Every coalition's expected value walks the tree (a feature in the coalition follows the
row, one outside it both children by cover), then exact Shapley weights over all
coalitions: for a handful of features only. The row's branch at a node is the caller's.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

Node = dict[str, object]


def expected(tree: list[Node], goes_left: Callable[[int], bool], coalition: set[int]) -> float:
    """``E[f(x) | x_S]`` under the tree's cover distribution."""

    def walk(node: int) -> float:
        n = tree[node]
        if n["leaf"]:
            return float(n["value"])  # type: ignore[arg-type]
        left, right = int(n["left"]), int(n["right"])  # type: ignore[call-overload]
        if n["feature"] in coalition:
            return walk(left if goes_left(node) else right)
        cover = float(n["cover"])  # type: ignore[arg-type]
        return (
            walk(left) * float(tree[left]["cover"]) + walk(right) * float(tree[right]["cover"])
        ) / cover

    return walk(0)


def shapley(n_features: int, value: Callable[[set[int]], float]) -> list[float]:
    """Exact Shapley values of a game over ``n_features`` players."""
    phi = [0.0] * n_features
    for i in range(n_features):
        others = [j for j in range(n_features) if j != i]
        for size in range(len(others) + 1):
            weight = math.factorial(size) * math.factorial(n_features - size - 1)
            weight /= math.factorial(n_features)
            for subset in itertools.combinations(others, size):
                s = set(subset)
                phi[i] += weight * (value(s | {i}) - value(s))
    return phi

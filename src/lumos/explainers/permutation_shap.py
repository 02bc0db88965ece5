"""Permutation sampling of Shapley values (Castro, Gomez & Tejada 2009), with antithetic permutations.

Each random order of the features gives every feature its marginal contribution when it joins the features
before it; the mean over orders is unbiased and efficient exactly (each order's contributions add up to
f(x) - f(empty)). ``antithetic=True`` (default) pairs every order with its reverse, whose coalitions are the
complements of the first's, which cancels much of the variance (Mitchell et al., "Sampling Permutations for
Shapley Value Estimation", JMLR 2022). An order costs F - 1 evaluations (fewer where coalitions repeat: each
is evaluated once). ``extras["std_error"]``: the spread of the independent groups of orders (an order, or an
order and its reverse) over sqrt(their count).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import Bool, param
from ..registry import register
from .sampled_base import SampledShapley


@register("permutation_shap")
@dataclass(frozen=True)
class PermutationShap(SampledShapley):
    """``antithetic``: each random order comes with its reverse."""

    summary = "Shapley values as the mean marginal contribution over random feature orders (antithetic pairs)."
    plain = ("Shapley values (each feature's fair share of the prediction) as the average change when a feature "
             "joins the others in random orders.")
    misleads = "An estimate: few orders give noisy values (extras['std_error']); removed features take a background."
    antithetic: bool = param(True, Bool())

    def group(self, order: np.ndarray) -> list[np.ndarray]:
        """The orders drawn together from one random order (an independent unit of the estimate)."""
        return [order, order[::-1]] if self.antithetic else [order]

    def group_cost(self, n: int) -> int:
        """Evaluations one group needs (at most: repeated coalitions are evaluated once)."""
        return (2 if self.antithetic else 1) * max(n - 1, 1)

    def smallest_budget(self, n: int) -> int:
        return 1 + 2 * self.group_cost(n)  # two independent groups for a variance

    def plan(self, state, n, budget):
        count = max(2, (budget - 1) // self.group_cost(n))
        groups = state.setdefault("groups", [])
        while len(groups) < count:
            groups.append(np.array(self.group(state["rng"].permutation(n))))
        state["count"] = count
        return _prefixes(np.concatenate(groups[:count]))[:, 1:n].reshape(-1, n)

    def estimate(self, state, game):
        n = game.n
        groups = np.array(state["groups"][:state["count"]])  # (G, orders per group, n)
        orders = groups.reshape(-1, n)
        values = game(_prefixes(orders).reshape(-1, n)).reshape(len(orders), n + 1)
        contributions = np.zeros((len(orders), n))
        np.put_along_axis(contributions, orders, np.diff(values, axis=1), axis=1)
        per_group = contributions.reshape(len(groups), -1, n).mean(1)
        return per_group.mean(0), per_group.var(0, ddof=1) / len(per_group)


def _prefixes(orders: np.ndarray) -> np.ndarray:
    """(P, n + 1, n) bool: for each order, the coalitions of its first k features, k = 0..n."""
    n = orders.shape[1]
    rank = np.argsort(orders, axis=1)
    return rank[:, None, :] < np.arange(n + 1)[None, :, None]

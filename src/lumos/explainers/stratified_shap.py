"""Shapley values by sampling stratified over coalition size: every feature gets exactly one marginal
contribution per coalition size in each block (Maleki et al., "Bounding the Estimation Error of
Sampling-based Shapley Value Approximation", 2013; Castro et al., "Improving polynomial estimation of the
Shapley value by stratified random sampling with optimum allocation", 2017, here with equal allocation).

phi_j = 1/F sum_s E[v(S + j) - v(S)] over coalitions S of size s without j. A block is a random order of the
features and its F cyclic shifts: in the shifts every feature stands once at every position, so it joins a
coalition of every size 0..F-1 exactly once, and each shift alone is a uniform random order (so the estimate
is unbiased and each shift's contributions add up to f(x) - f(empty): efficiency holds exactly). With
``antithetic=True`` (default) each block also takes the reverse order's shifts, the complements of the first's
coalitions, which are the same F (F - 1) cyclic windows of the order: the reverse comes free. One block costs
F (F - 1) evaluations; the smallest budget is two blocks. ``extras["std_error"]``: the spread between blocks
over sqrt(their count).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..registry import register
from .permutation_shap import PermutationShap


@register("stratified_shap")
@dataclass(frozen=True)
class StratifiedShap(PermutationShap):
    """``antithetic``: each block also takes the reversed order's shifts."""

    summary = "Shapley values with one marginal contribution per feature and coalition size in every block."
    plain = ("Shapley values (each feature's fair share of the prediction) from the change when a feature joins "
             "coalitions of every size, sampled evenly.")
    misleads = "An estimate: few blocks give noisy values (extras['std_error']); removed features take a background."

    def group(self, order: np.ndarray) -> list[np.ndarray]:
        shifts = [np.roll(order, k) for k in range(len(order))]
        return shifts + [s[::-1] for s in shifts] if self.antithetic else shifts

    def group_cost(self, n: int) -> int:
        return n * max(n - 1, 1)  # the cyclic windows of one order (its reverse has the same ones)

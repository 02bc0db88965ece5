"""Kernel SHAP (Lundberg & Lee 2017): Shapley-kernel weighted least squares on coalitions.

The budget is spent the way that estimates Shapley values best: coalitions are drawn in complementary pairs,
without replacement, with each size's share of the budget proportional to the kernel's mass on it (most at the
smallest and largest sizes); a size whose every coalition fits in its share is enumerated completely, as in
shap's KernelExplainer. Each sampled coalition weighs its kernel weight over its inclusion probability, and the
efficiency constraint sum(phi) = f(x) - f(empty) is held exactly by eliminating one unknown. When the budget
covers all 2^F coalitions the result is the exact Shapley value. ``extras["std_error"]``: a sandwich
(linearised) variance of the regression, with the finite-population correction. ``leverage_shap`` is the
same regression with every size sampled equally.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..registry import register
from .coalition_strata import kernel_regression
from .strata_base import StrataShapley


@register("kernel_shap")
@dataclass(frozen=True)
class KernelShap(StrataShapley):
    """``n_samples``: model evaluations per example (the empty coalition included)."""

    summary = "Shapley values estimated by kernel-weighted regression; exact when the budget covers 2^F."
    plain = ("Shapley values (each feature's fair share of the prediction) estimated from the model's outputs on "
             "random subsets of features.")
    misleads = ("An estimate: few samples on many features give noisy values (extras['std_error'] says how noisy); "
                "removed features take a background, and the values depend on it.")
    stratum_weight = "kernel"
    underdetermined_ok = True

    def estimate(self, state, game):
        return kernel_regression(self.sample(state, game))

"""Leverage SHAP (Musco & Witter, "Provably Accurate Shapley Value Estimation via Leverage Score Sampling",
ICLR 2025): Kernel SHAP's regression on coalitions sampled by their leverage scores.

The leverage score of a coalition in the Shapley regression is 1 / C(F, |S|): every coalition size is sampled
equally often (Kernel SHAP samples by the kernel, which piles up at the smallest and largest sizes). Pairs
(S, complement) are drawn without replacement, a size whose every coalition fits in its share is enumerated,
and each sampled coalition's kernel weight is divided by its inclusion probability. Efficiency is held
exactly; the result is exact when the budget covers all 2^F coalitions. ``extras["std_error"]``: a sandwich
(linearised) variance of the regression, with the finite-population correction of sampling without replacement.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..registry import register
from .coalition_strata import kernel_regression
from .strata_base import StrataShapley


@register("leverage_shap")
@dataclass(frozen=True)
class LeverageShap(StrataShapley):
    summary = "Shapley values by Kernel SHAP's regression on leverage-score samples (every size equally)."
    plain = ("Shapley values (each feature's fair share of the prediction) estimated from the model's outputs on "
             "random subsets of features, every subset size sampled equally.")
    misleads = ("An estimate: few samples on many features give noisy values (extras['std_error']); removed features "
                "take a background, and the values depend on it.")
    stratum_weight = "leverage"
    underdetermined_ok = True

    def estimate(self, state, game):
        return kernel_regression(self.sample(state, game))

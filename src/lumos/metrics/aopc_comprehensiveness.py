"""AOPC comprehensiveness: comprehensiveness averaged over top-k% bins (ERASER's 1, 5, 10, 20, 50%)."""

from __future__ import annotations

from dataclasses import dataclass

from ..features.removal import BACKGROUND, BASELINE
from ..params import AnyOf, Choice, Numbers, param
from ..registry import register
from .base import Metric
from .rationale_removal import binned_rationales, drops, resolve_bins


@register("aopc_comprehensiveness", kind="metric")
@dataclass(frozen=True)
class AopcComprehensiveness(Metric):
    """``bins``: "eraser" (1, 5, 10, 20, 50%), "ferret" (10%..100%) or a list of fractions; a bin removes
    ceil(b * F) features. Details: the per-bin drops (B, n_bins)."""

    family = "faithfulness"
    higher_is_better = True
    bounds = (-1.0, 1.0)
    modalities = ("text", "tabular")
    summary = "Comprehensiveness averaged over increasing rationale sizes."
    plain = ("How much the model's confidence falls when the features the method ranks highest are removed, averaged "
             "over several amounts removed.")
    misleads = ("Inputs with words or columns removed are unlike the training data, so part of a drop can come from "
                "the broken input rather than from lost evidence.")
    shared_details = ("bins",)
    bins: object = param("eraser", AnyOf(Choice("eraser", "ferret"), Numbers(low=0, high=1, low_open=True)))
    baseline: object = param(None, BASELINE)
    background: object = param(None, BACKGROUND)

    def compute(self, ctx):
        bins = resolve_bins(self.bins)
        per_bin = drops(ctx, binned_rationales(ctx, bins), False, self.baseline, self.background)
        return per_bin.mean(axis=1), {"bins": bins, "per_bin": per_bin}

"""AOPC sufficiency: sufficiency averaged over top-k% bins (ERASER's 1, 5, 10, 20, 50%)."""

from __future__ import annotations

from dataclasses import dataclass

from ..features.removal import BACKGROUND, BASELINE
from ..params import AnyOf, Choice, Numbers, param
from ..registry import register
from .base import Metric
from .rationale_removal import binned_rationales, drops, resolve_bins


@register("aopc_sufficiency", kind="metric")
@dataclass(frozen=True)
class AopcSufficiency(Metric):
    """``bins`` as in aopc_comprehensiveness; lower is better."""

    family = "faithfulness"
    higher_is_better = False
    bounds = (-1.0, 1.0)
    modalities = ("text", "tabular")
    summary = "Sufficiency averaged over increasing rationale sizes."
    plain = ("How much the model's confidence falls when only the top-ranked features are kept, averaged over several "
             "amounts kept; a small fall means they carry the decision.")
    misleads = ("Inputs cut down to a few words or columns are unlike the training data; the model can stay confident "
                "for reasons unrelated to what was kept.")
    shared_details = ("bins",)
    bins: object = param("eraser", AnyOf(Choice("eraser", "ferret"), Numbers(low=0, high=1, low_open=True)))
    baseline: object = param(None, BASELINE)
    background: object = param(None, BACKGROUND)

    def compute(self, ctx):
        bins = resolve_bins(self.bins)
        per_bin = drops(ctx, binned_rationales(ctx, bins), True, self.baseline, self.background)
        return per_bin.mean(axis=1), {"bins": bins, "per_bin": per_bin}

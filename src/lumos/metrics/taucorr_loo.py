"""Kendall's tau between an explanation and leave-one-out (the drop when each feature alone is removed)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import kendalltau

from ..features.removal import BACKGROUND, BASELINE
from ..params import param
from ..registry import register
from .base import Metric


@register("taucorr_loo", kind="metric")
@dataclass(frozen=True)
class TaucorrLoo(Metric):
    """Tau-b (ties handled). NaN where it is undefined: one feature, or all scores equal on either side.
    Leave-one-out is computed once per evaluate call and shared."""

    family = "faithfulness"
    higher_is_better = True
    bounds = (-1.0, 1.0)
    modalities = ("text", "tabular")
    summary = "Rank agreement between the explanation and leave-one-out drops."
    plain = "Whether the method orders the features as removing each one alone does (Kendall's tau with leave-one-out)."
    misleads = ("Occlusion is leave-one-out itself and scores 1 by construction; features that matter only together "
                "are invisible to it.")
    favours = {"occlusion": "occlusion is leave-one-out itself and scores 1"}
    baseline: object = param(None, BASELINE)
    background: object = param(None, BACKGROUND)
    undefined = "one feature, or all scores (or all leave-one-out drops) equal"

    def compute(self, ctx):
        loo = ctx.leave_one_out(self.baseline, self.background)
        out = np.full(len(loo), np.nan)
        for i, (s, l) in enumerate(zip(ctx.scores(), loo)):
            if len(s) > 1 and np.ptp(s) > 0 and np.ptp(l) > 0:
                out[i] = kendalltau(s, l).statistic
        return out, {"leave_one_out": loo}

"""Sufficiency (ERASER): how much the prediction drops when only the rationale is kept."""

from __future__ import annotations

from dataclasses import dataclass

from ..registry import register
from .base import Metric
from .rationale_removal import drops, hard_rationales


@register("sufficiency", kind="metric")
@dataclass(frozen=True)
class Sufficiency(Metric):
    """p(y|x) - p(y|r), r the explanation's hard rationale (default the top 20%). Lower is better."""

    family = "faithfulness"
    higher_is_better = False
    bounds = (-1.0, 1.0)
    modalities = ("text", "tabular")
    summary = "Drop in the predicted probability when only the top features are kept."
    rule: str = "top_fraction"
    value: float = 0.2
    baseline: object = None
    background: object = None

    def compute(self, ctx):
        return drops(ctx, hard_rationales(ctx, self.rule, self.value), True, self.baseline, self.background)[:, 0]

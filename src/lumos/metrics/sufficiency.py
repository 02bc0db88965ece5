"""Sufficiency (ERASER): how much the prediction drops when only the rationale is kept."""

from __future__ import annotations

from dataclasses import dataclass

from ..features.removal import BACKGROUND, BASELINE
from ..params import Choice, Float, param
from ..rationales import RULES, check_rule
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
    plain = ("How much the model's confidence falls when only the features the method ranks highest (the top 20%) are "
             "kept; a small fall means they carry the decision.")
    misleads = ("Inputs cut down to a few words or columns are unlike the training data; the model can stay confident "
                "for reasons unrelated to what was kept.")
    rule: str = param("top_fraction", Choice(*RULES))
    value: float = param(0.2, Float())
    baseline: object = param(None, BASELINE)
    background: object = param(None, BACKGROUND)

    def check_params(self) -> None:
        check_rule(self.name, self.rule, self.value)

    def compute(self, ctx):
        return drops(ctx, hard_rationales(ctx, self.rule, self.value), True, self.baseline, self.background)[:, 0]

"""Comprehensiveness (ERASER): how much the prediction drops when the rationale is removed."""

from __future__ import annotations

from dataclasses import dataclass

from ..features.removal import BACKGROUND, BASELINE
from ..params import Choice, Float, param
from ..rationales import RULES, check_rule
from ..registry import register
from .base import Metric
from .rationale_removal import drops, hard_rationales


@register("comprehensiveness", kind="metric")
@dataclass(frozen=True)
class Comprehensiveness(Metric):
    """p(y|x) - p(y|x without r), r the explanation's hard rationale (``rule``/``value``, default the top 20%).
    ``baseline``: "delete" (default), "mask" or "pad" for text; tables replace columns by ``background``."""

    family = "faithfulness"
    higher_is_better = True
    bounds = (-1.0, 1.0)
    modalities = ("text", "tabular")
    summary = "Drop in the predicted probability when the top features are removed."
    plain = ("How much the model's confidence falls when the features the method ranks highest (the top 20%) are "
             "removed.")
    misleads = ("Inputs with words or columns removed are unlike the training data, so part of a drop can come from "
                "the broken input rather than from lost evidence.")
    rule: str = param("top_fraction", Choice(*RULES))
    value: float = param(0.2, Float())
    baseline: object = param(None, BASELINE)
    background: object = param(None, BACKGROUND)

    def check_params(self) -> None:
        check_rule(self.name, self.rule, self.value)

    def compute(self, ctx):
        return drops(ctx, hard_rationales(ctx, self.rule, self.value), False, self.baseline, self.background)[:, 0]

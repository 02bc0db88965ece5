"""AUPRC (ERASER): area under the precision-recall curve of the soft scores against the human rationale."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import auc, precision_recall_curve

from ..registry import register
from .base import Metric
from .plausibility import gold


@register("auprc", kind="metric")
@dataclass(frozen=True)
class Auprc(Metric):
    """Per example, as ERASER computes it (sklearn's precision_recall_curve then auc); NaN for an example
    whose human rationale is empty (no positive to rank)."""

    family = "plausibility"
    higher_is_better = True
    bounds = (0.0, 1.0)
    needs_rationales = True
    summary = "Area under the precision-recall curve of the scores against the human rationale."
    plain = ("How well the method's scores pick out the words a person (or the task's construction) marked as the "
             "reason, over every threshold.")
    misleads = ("It measures agreement with people, not with the model: a model that relies on other cues can be "
                "explained faithfully and still score low.")
    undefined = "the human rationale is empty (no positive to rank)"

    def compute(self, ctx):
        out = np.full(len(ctx.targets), np.nan)
        for i, (s, g) in enumerate(zip(ctx.scores(), gold(ctx))):
            if g.any():
                precision, recall, _ = precision_recall_curve(g.astype(int), s)
                out[i] = auc(recall, precision)
        return out

"""Token-level F1 between the explanation's hard rationale and the human rationale (ERASER)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..registry import register
from .base import Metric
from .plausibility import gold, predicted, prf


@register("token_f1", kind="metric")
@dataclass(frozen=True)
class TokenF1(Metric):
    """Predicted rationale: ``rule``/``value`` (default top-k with k the mean human rationale length).
    Details: per-example precision and recall."""

    family = "plausibility"
    higher_is_better = True
    bounds = (0.0, 1.0)
    needs_rationales = True
    summary = "F1 overlap between the top features and the human rationale."
    batch_invariant = False  # the default hard rationale takes k = the batch's mean human rationale length (ERASER)
    rule: str = "top_k"
    value: float | None = None

    def compute(self, ctx):
        scores = np.array([prf(p, g) for p, g in zip(predicted(ctx, self.rule, self.value), gold(ctx))])
        return scores[:, 2], {"precision": scores[:, 0], "recall": scores[:, 1]}

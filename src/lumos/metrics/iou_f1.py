"""IOU F1 (ERASER): predicted spans that overlap a human span with IOU >= 0.5 count as matches."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..rationales import spans
from ..registry import register
from .base import Metric
from .plausibility import gold, predicted


def iou(a: tuple[int, int], b: tuple[int, int]) -> float:
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


def span_f1(pred_mask: np.ndarray, gold_mask: np.ndarray, threshold: float) -> tuple[float, float, float]:
    """Precision (matched predicted spans), recall (matched gold spans) and F1; both empty -> (1, 1, 1)."""
    ps, gs = spans(pred_mask), spans(gold_mask)
    if not ps and not gs:
        return 1.0, 1.0, 1.0
    matched_pred = sum(any(iou(p, g) >= threshold for g in gs) for p in ps)
    matched_gold = sum(any(iou(p, g) >= threshold for p in ps) for g in gs)
    precision = matched_pred / len(ps) if ps else 0.0
    recall = matched_gold / len(gs) if gs else 0.0
    return precision, recall, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)


@register("iou_f1", kind="metric")
@dataclass(frozen=True)
class IouF1(Metric):
    family = "plausibility"
    higher_is_better = True
    bounds = (0.0, 1.0)
    needs_rationales = True
    summary = "F1 of predicted rationale spans matching human spans at IOU >= 0.5."
    batch_invariant = False  # the default hard rationale takes k = the batch's mean human rationale length (ERASER)
    rule: str = "top_k"
    value: float | None = None
    threshold: float = 0.5

    def compute(self, ctx):
        scores = np.array([span_f1(p, g, self.threshold)
                           for p, g in zip(predicted(ctx, self.rule, self.value), gold(ctx))])
        return scores[:, 2], {"precision": scores[:, 0], "recall": scores[:, 1]}

"""IOU F1 (ERASER, DeYoung et al. 2020): predicted rationale spans that overlap a human span with IOU >= 0.5.

Counting follows ERASER's scorer (``partial_match_score``): a predicted span is a match when its best IOU with
a gold span reaches ``threshold``; precision = matches / predicted spans, recall = matches / gold spans
(capped at 1, which ERASER's recall can pass only at thresholds below 0.5). Gold spans are kept as given, so
two touching evidence spans, (0, 1) and (1, 4), stay two spans. Per example, nothing predicted against no
gold span scores (1, 1, 1).

Two aggregates: the per-example scores (their mean is ``Scores.mean()``), and in details ERASER's headline
"IOU F1" of its published tables: the F1 of the mean precision (over examples with a predicted span) and the
mean recall (over examples with a gold span), ``details["eraser_f1"]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..params import Choice, Float, Optional, param
from ..rationales import RULES, check_rule, spans
from ..registry import register
from .base import Metric
from .plausibility import gold, predicted

Span = tuple[int, int]


def iou(a: Span, b: Span) -> float:
    """|a & b| / |a | b| of two half-open token spans (0 when both are empty)."""
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    union = (a[1] - a[0]) + (b[1] - b[0]) - inter
    return inter / union if union > 0 else 0.0


def span_f1(pred: Sequence[Span], gold_spans: Sequence[Span], threshold: float) -> tuple[float, float, float, int]:
    """(precision, recall, F1, matches) of predicted spans against gold spans, counted as ERASER does."""
    if not pred and not gold_spans:
        return 1.0, 1.0, 1.0, 0
    matches = sum(max((iou(p, g) for g in gold_spans), default=0.0) >= threshold for p in pred)
    precision = matches / len(pred) if pred else 0.0
    recall = min(1.0, matches / len(gold_spans)) if gold_spans else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, matches


def eraser_aggregate(precision: np.ndarray, recall: np.ndarray, n_pred: np.ndarray,
                     n_gold: np.ndarray) -> tuple[float, float, float]:
    """ERASER's macro IOU scores over a set of examples: (mean precision over examples with a predicted span,
    mean recall over examples with a gold span, their F1)."""
    p = float(np.mean(precision[n_pred > 0])) if (n_pred > 0).any() else 0.0
    r = float(np.mean(recall[n_gold > 0])) if (n_gold > 0).any() else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


@register("iou_f1", kind="metric")
@dataclass(frozen=True)
class IouF1(Metric):
    """Predicted rationale: ``rule``/``value`` (default top-k, k the mean human rationale length). Details:
    per-example precision, recall and span counts, and ERASER's aggregate ``eraser_precision``,
    ``eraser_recall``, ``eraser_f1``."""

    family = "plausibility"
    higher_is_better = True
    bounds = (0.0, 1.0)
    needs_rationales = True
    summary = "F1 of predicted rationale spans matching human spans at IOU >= 0.5."
    plain = "How often the spans the method highlights overlap the spans people marked (by at least half)."
    misleads = ("It measures agreement with people, not with the model: a model that relies on other cues can be "
                "explained faithfully and still score low.")
    batch_invariant = False  # the default hard rationale takes k = the batch's mean human rationale length (ERASER)
    rule: str = param("top_k", Choice(*RULES))
    value: float | None = param(None, Optional(Float()))
    threshold: float = param(0.5, Float(low=0.0, high=1.0, low_open=True))

    def check_params(self) -> None:
        check_rule(self.name, self.rule, self.value, value_may_be_none=self.rule == "top_k")

    def compute(self, ctx):
        golds = ctx.rationale_spans if ctx.rationale_spans is not None else [spans(g) for g in gold(ctx)]
        preds = [spans(p) for p in predicted(ctx, self.rule, self.value)]
        rows = np.array([span_f1(p, g, self.threshold) for p, g in zip(preds, golds)], dtype=np.float64)
        n_pred = np.array([len(p) for p in preds])
        n_gold = np.array([len(g) for g in golds])
        p, r, f1 = eraser_aggregate(rows[:, 0], rows[:, 1], n_pred, n_gold)
        return rows[:, 2], {"precision": rows[:, 0], "recall": rows[:, 1], "n_predicted_spans": n_pred,
                            "n_gold_spans": n_gold, "eraser_precision": p, "eraser_recall": r, "eraser_f1": f1}

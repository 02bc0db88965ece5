"""Shared by the plausibility metrics: predicted hard rationales sized like the human ones (ERASER)."""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..rationales import hard, top_k
from .base import EvalContext


def gold(ctx: EvalContext) -> list[np.ndarray]:
    if ctx.rationales is None:
        raise InputError("plausibility metrics compare with human rationales: pass rationales=... to evaluate "
                         "(per example a boolean array over the features, or evidence spans).")
    return ctx.rationales


def predicted(ctx: EvalContext, rule: str, value: float | None) -> list[np.ndarray]:
    """Hard rationales from the soft scores. ``rule="top_k"`` with value None takes, as ERASER does for soft
    scores, k = the mean human rationale length over the batch (rounded), at least 1."""
    golds = gold(ctx)
    if rule == "top_k" and value is None:
        k = max(1, int(round(np.mean([g.sum() for g in golds])))) if golds else 1
        return [top_k(s, k) for s in ctx.scores()]
    if value is None:
        raise InputError(f"rule {rule!r} needs a value.")
    return [hard(s, rule, value) for s in ctx.scores()]


def prf(pred: np.ndarray, true: np.ndarray) -> tuple[float, float, float]:
    """Precision, recall and F1 of two boolean masks; both empty counts as perfect agreement (1, 1, 1)."""
    tp = float(np.sum(pred & true))
    if not pred.any() and not true.any():
        return 1.0, 1.0, 1.0
    p = tp / pred.sum() if pred.any() else 0.0
    r = tp / true.sum() if true.any() else 0.0
    return p, r, (2 * p * r / (p + r) if p + r > 0 else 0.0)

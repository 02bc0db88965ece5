"""Shared by comprehensiveness, sufficiency and their AOPC forms (ERASER, DeYoung et al. 2020).

comprehensiveness(r) = p(y|x) - p(y|x without r); sufficiency(r) = p(y|x) - p(y|r only). Every example and
every removal level go through the model in one batched stream.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import InputError
from ..rationales import hard, top_k
from .base import EvalContext

ERASER_BINS = (0.01, 0.05, 0.10, 0.20, 0.50)
FERRET_BINS = tuple(np.round(np.arange(0.1, 1.01, 0.1), 2))


def resolve_bins(bins: str | Sequence[float]) -> tuple[float, ...]:
    if isinstance(bins, str):
        table = {"eraser": ERASER_BINS, "ferret": FERRET_BINS}
        if bins not in table:
            raise InputError(f"unknown bins {bins!r}; use 'eraser', 'ferret' or a list of fractions.")
        return table[bins]
    return tuple(float(b) for b in bins)


def drops(ctx: EvalContext, rationales: list[list[np.ndarray]], keep_rationale: bool, baseline: object,
          background: object) -> np.ndarray:
    """rationales[i][l]: (F_i,) bool of example i at level l -> (B, L) drops p(y|x) - p(y|kept part)."""
    masks = [np.array([r if keep_rationale else ~r for r in levels], dtype=bool).reshape(len(levels), -1)
             for levels in rationales]
    return np.array(ctx.drops(masks, baseline, background))


def hard_rationales(ctx: EvalContext, rule: str, value: float) -> list[list[np.ndarray]]:
    return [[hard(s, rule, value)] for s in ctx.scores()]


def binned_rationales(ctx: EvalContext, bins: tuple[float, ...]) -> list[list[np.ndarray]]:
    """Top ceil(b * F) features per bin b (at least one word for b > 0)."""
    out = []
    for s in ctx.scores():
        n = len(s)
        out.append([top_k(s, min(n, int(np.ceil(b * n - 1e-9)))) for b in bins])
    return out

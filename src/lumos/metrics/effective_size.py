"""Effective size: exp(entropy) of the normalised absolute attributions, the number of equally important
features that would spread the mass the same way (1 = one feature, F = all features equal)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import Bool, param
from ..registry import register
from .base import Metric


def effective_number(values: np.ndarray) -> float:
    """exp(H(p)), p = |v| / sum|v|; NaN when every value is zero (no mass to spread)."""
    v = np.abs(np.asarray(values, dtype=np.float64)).ravel()
    total = v.sum()
    if total == 0:
        return float("nan")
    p = v[v > 0] / total
    return float(np.exp(-(p * np.log(p)).sum()))


@register("effective_size", kind="metric")
@dataclass(frozen=True)
class EffectiveSize(Metric):
    """``relative``: divide by the number of features (a value in (0, 1])."""

    family = "complexity"
    higher_is_better = False
    bounds = (0.0, np.inf)  # >= 1 features; relative=True: in (0, 1]
    summary = "How many features effectively carry the attribution (exp of its entropy)."
    plain = "How many features effectively carry the explanation; fewer is easier to read."
    misleads = "Compact is easier to read, not more correct: a method that misses relevant features also looks compact."
    relative: bool = param(False, Bool())
    undefined = "every attribution is zero"

    def compute(self, ctx):
        return np.array([effective_number(s) / (len(s) if self.relative else 1) for s in ctx.scores()])

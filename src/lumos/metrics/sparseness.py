"""Sparseness (Chalasani et al. 2020): the Gini index of the absolute attributions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..registry import register
from .base import Metric


def gini(values: np.ndarray) -> float:
    """Gini index of non-negative values: 0 when all equal (or all zero), (n-1)/n when one carries everything."""
    v = np.sort(np.abs(np.asarray(values, dtype=np.float64)).ravel())
    n, total = len(v), v.sum()
    if n == 0 or total == 0:
        return 0.0
    return float(np.sum((2 * np.arange(1, n + 1) - n - 1) * v) / (n * total))


@register("sparseness", kind="metric")
@dataclass(frozen=True)
class Sparseness(Metric):
    family = "complexity"
    higher_is_better = True
    bounds = (0.0, 1.0)
    summary = "Gini index of |attributions|: how concentrated the explanation is."
    plain = "How concentrated the explanation is on a few features (Gini index, 0 to 1)."
    misleads = ("Concentrated is easier to read, not more correct: a method that ignores relevant features also looks "
                "concentrated.")

    def compute(self, ctx):
        return np.array([gini(s) for s in ctx.scores()])

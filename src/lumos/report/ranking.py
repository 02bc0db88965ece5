"""Which method scored better, and when the data cannot tell: paired bootstrap differences and tie-aware ranks.

Methods are scored on the same examples, so two methods are compared by the mean of their per-example
differences, with a 95% percentile bootstrap interval (``scipy.stats.bootstrap``). A method is better than
another only when that interval excludes zero; a method's rank is 1 + the number of methods better than it,
so equal scores, and differences inside the interval, share a rank.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import bootstrap

from ..evaluation import bootstrap_batch

LEVEL = 0.95
RESAMPLES = 999


@dataclass(frozen=True)
class Difference:
    """``mean`` of a - b over the ``n`` examples both scored, oriented so that positive means a is better
    (the metric's direction applied), with its ``LEVEL`` interval [``low``, ``high``] (NaN below 2 examples)."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def better(self) -> bool:
        """a is better than b beyond the interval."""
        return bool(self.low > 0)

    @property
    def worse(self) -> bool:
        """a is worse than b beyond the interval."""
        return bool(self.high < 0)

    def flipped(self) -> "Difference":
        """The same comparison seen from b: b - a."""
        return Difference(-self.mean, -self.high, -self.low, self.n)

    def interval(self) -> str:
        """"95% interval 0.05 to 0.20" (or "too few examples for an interval")."""
        if self.low != self.low:
            return f"{self.n} example{'s' if self.n != 1 else ''}, too few for an interval"
        return f"95% interval {self.low:.3f} to {self.high:.3f}"


def difference(a: np.ndarray, b: np.ndarray, higher_is_better: bool = True, seed: int = 0) -> Difference:
    """The paired difference a - b (per example, NaN pairs dropped), sign flipped when lower is better."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    d = d[np.isfinite(d)] * (1.0 if higher_is_better else -1.0)
    if len(d) == 0:
        return Difference(float("nan"), float("nan"), float("nan"), 0)
    if len(d) < 2:
        return Difference(float(d.mean()), float("nan"), float("nan"), len(d))
    if np.ptp(d) == 0:  # every example differs by the same amount (0 for identical scores)
        return Difference(float(d[0]), float(d[0]), float(d[0]), len(d))
    ci = bootstrap((d,), np.mean, confidence_level=LEVEL, n_resamples=RESAMPLES, method="percentile",
                   batch=bootstrap_batch(len(d), RESAMPLES),
                   random_state=np.random.default_rng(seed)).confidence_interval
    return Difference(float(d.mean()), float(ci.low), float(ci.high), len(d))


def tie_ranks(values: pd.DataFrame, higher_is_better: bool, seed: int = 0) -> pd.Series:
    """``values``: examples x methods scores of one metric. Rank of each method: 1 + the number of methods
    better than it beyond the interval (``difference``); ties share a rank."""
    methods = list(values.columns)
    beaten_by = {m: 0 for m in methods}
    for i, a in enumerate(methods):
        for b in methods[i + 1:]:
            d = difference(values[a].to_numpy(), values[b].to_numpy(), higher_is_better, seed)
            if d.better:
                beaten_by[b] += 1
            elif d.worse:
                beaten_by[a] += 1
    return pd.Series({m: 1 + beaten_by[m] for m in methods}, dtype=float)

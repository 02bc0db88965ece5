"""Multiple-testing corrections shared by the discoverers."""

from __future__ import annotations

import numpy as np

CORRECTIONS = ("holm", "bonferroni", "bh", "none")


def adjust(p: np.ndarray, method: str) -> np.ndarray:
    """p-values corrected for ``len(p)`` tests: Holm's step-down, Bonferroni, Benjamini-Hochberg, or none."""
    m = len(p)
    if method == "none" or m == 0:
        return p.copy()
    if method == "bonferroni":
        return np.minimum(p * m, 1.0)
    order = np.argsort(p, kind="stable")
    if method == "holm":
        stepped = np.maximum.accumulate(np.minimum((m - np.arange(m)) * p[order], 1.0))
    else:  # bh
        from scipy.stats import false_discovery_control

        return false_discovery_control(p, method="bh")
    out = np.empty(m)
    out[order] = stepped
    return out

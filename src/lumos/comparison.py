"""Agreement between explanation methods: Spearman, Kendall and top-k Jaccard, per example and as a
methods x methods matrix (the disagreement problem, Krishna et al. 2022)."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Mapping

import numpy as np
from scipy.stats import kendalltau, spearmanr

from .errors import InputError
from .explanation import Explanations
from .rationales import top_k
from .results import Result

MEASURES = ("spearman", "kendall", "jaccard")


def pair_scores(a: np.ndarray, b: np.ndarray, k: int, absolute: bool) -> dict[str, float]:
    """Rank correlations (NaN when either side is constant) and Jaccard of the top-k features."""
    if a.shape != b.shape:
        raise InputError(f"explanations of different shapes {a.shape} and {b.shape} cannot be compared; "
                         "were they computed on the same inputs and granularity?")
    if absolute:
        a, b = np.abs(a), np.abs(b)
    constant = np.ptp(a) == 0 or np.ptp(b) == 0 or len(a) < 2
    top_a, top_b = top_k(a, min(k, len(a))), top_k(b, min(k, len(b)))
    union = (top_a | top_b).sum()
    return {"spearman": np.nan if constant else float(spearmanr(a, b).statistic),
            "kendall": np.nan if constant else float(kendalltau(a, b).statistic),
            "jaccard": float((top_a & top_b).sum() / union) if union else 1.0}


def per_example(x: Explanations, y: Explanations, k: int = 5, absolute: bool = True) -> dict[str, np.ndarray]:
    if len(x) != len(y):
        raise InputError(f"cannot compare {len(x)} explanations with {len(y)}; explain the same inputs.")
    rows = [pair_scores(a.feature_scores(), b.feature_scores(), k, absolute) for a, b in zip(x, y)]
    return {m: np.array([r[m] for r in rows]) for m in MEASURES}


@dataclass
class Agreement(Result):
    """``per_example[(a, b)][measure]``: (B,) scores for each pair of methods; ``matrix(measure)`` the means."""

    methods: list[str]
    per_example: dict[tuple[str, str], dict[str, np.ndarray]]
    params: dict = field(default_factory=dict)

    def to_frame(self):
        """One row per pair of methods: the mean of each measure over the examples."""
        import pandas as pd

        return pd.DataFrame([{"a": a, "b": b, **{m: float(np.nanmean(v[m])) if np.isfinite(v[m]).any() else np.nan
                                                 for m in MEASURES}} for (a, b), v in self.per_example.items()])

    def summary(self) -> dict:
        """Mean Spearman agreement per pair ("a vs b")."""
        return {f"{a} vs {b}": float(np.nanmean(v["spearman"])) if np.isfinite(v["spearman"]).any() else float("nan")
                for (a, b), v in self.per_example.items()}

    def matrix(self, measure: str = "spearman"):
        """methods x methods DataFrame of the mean over examples (NaN-aware); 1 on the diagonal."""
        import pandas as pd

        if measure not in MEASURES:
            raise InputError(f"unknown agreement measure {measure!r}; use one of {MEASURES}.")
        m = pd.DataFrame(np.eye(len(self.methods)), index=self.methods, columns=self.methods)
        for (a, b), scores in self.per_example.items():
            value = float(np.nanmean(scores[measure])) if np.isfinite(scores[measure]).any() else np.nan
            m.loc[a, b] = m.loc[b, a] = value
        return m


def agreement(explanations_by_method: Mapping[str, Explanations], k: int = 5, absolute: bool = True) -> Agreement:
    """Pairwise agreement of explanations of the same inputs by different methods."""
    names = list(explanations_by_method)
    if len(names) < 2:
        raise InputError(f"agreement needs at least two methods; got {names}.")
    pairs = {(a, b): per_example(explanations_by_method[a], explanations_by_method[b], k, absolute)
             for a, b in combinations(names, 2)}
    return Agreement(names, pairs, {"k": k, "absolute": absolute})

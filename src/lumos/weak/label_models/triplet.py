"""FlyingSquid's triplet method: LF accuracies in closed form from pairwise agreement rates (Fu et al.,
"Fast and three-rious: speeding up weak supervision with triplet methods", ICML 2020)."""

from __future__ import annotations

from itertools import combinations
from typing import Any, Sequence

import numpy as np
from scipy.special import expit

from ...errors import UnsupportedError
from ...params import Float, Int
from ..base import LabelModel, register

DEFAULT_ACCURACY = 0.7  # every LF's accuracy when no triplet is usable at all


@register("triplet")
class Triplet(LabelModel):
    """Binary tasks. With votes and classes as +-1, a_j = E[vote_j Y | LF j votes] and, for LFs independent
    given Y, E[vote_i vote_j | both vote] = a_i a_j, so for any triplet |a_i| = sqrt(|M_ij M_ik / M_jk|)
    (M: agreement moments over the rows where both LFs vote). Each LF takes the median over its triplets
    whose pairs overlap on at least ``min_overlap`` rows and |M_jk| >= ``min_moment``; accuracy
    (1 + a_j) / 2, clipped to [0.5, ``max_accuracy``]. LFs without such a triplet get the median of the
    others, or 0.7 if no LF has one (recorded in ``params["fallback"]``). Labels: naive Bayes with these
    accuracies and the class balance (estimated from first moments, E[vote_j | votes] = a_j (2 p - 1), unless
    given).

    Assumes LFs are independent given Y, better than chance, abstain independently of Y, and are
    *symmetric*: as accurate on positives as on negatives. LFs that only ever vote one class (most keyword
    LFs) break the last assumption: two such LFs always agree when both vote, and the method reads that as
    accuracy 1. Closed form: no iterations, no randomness (the seed is recorded).
    """

    param_rules = {**LabelModel.param_rules, "min_overlap": Int(low=1), "min_moment": Float(low=0),
                   "max_accuracy": Float(0.5, 1)}

    def __init__(self, *, min_overlap: int = 10, min_moment: float = 0.05, max_accuracy: float = 0.99,
                 seed: int = 0, abstain: str = "prior", class_balance: Sequence[float] | None = None):
        super().__init__(seed=seed, abstain=abstain, class_balance=class_balance)
        self.check(min_overlap=min_overlap, min_moment=min_moment, max_accuracy=max_accuracy)
        self.min_overlap, self.min_moment, self.max_accuracy = int(min_overlap), float(min_moment), float(max_accuracy)

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "min_overlap": self.min_overlap, "min_moment": self.min_moment,
                "max_accuracy": self.max_accuracy}

    def _fit(self, L: np.ndarray, K: int, rng: np.random.Generator) -> None:
        if K != 2:
            raise UnsupportedError(f"the triplet label model is binary; this matrix has {K} classes. Use "
                                   "dawid_skene or matrix_completion for more classes.")
        S = np.where(L < 0, 0.0, 2.0 * L - 1.0)  # (N, M) in {-1, 0, +1}
        F = (L >= 0).astype(np.float64)
        both = F.T @ F
        moments = (S.T @ S) / np.maximum(both, 1)
        usable = (both >= self.min_overlap) & (np.abs(moments) >= self.min_moment)
        M = L.shape[1]
        estimates: list[list[float]] = [[] for _ in range(M)]
        for i, j, k in combinations(range(M), 3):
            if usable[i, j] and usable[i, k] and usable[j, k]:
                for a, b, c in ((i, j, k), (j, i, k), (k, i, j)):
                    estimates[a].append(np.sqrt(abs(moments[a, b] * moments[a, c] / moments[b, c])))
        a = np.array([np.median(e) if e else np.nan for e in estimates])
        fallback = [j for j in range(M) if not estimates[j]]
        default = float(np.nanmedian(a)) if np.isfinite(a).any() else 2 * DEFAULT_ACCURACY - 1
        a = np.clip(np.where(np.isnan(a), default, a), 0.0, 2 * self.max_accuracy - 1)
        self.acc = (1 + a) / 2
        if self.fixed_balance is not None:
            self.class_balance = self.fixed_balance
        else:
            n_votes = F.sum(0)
            mean_vote = S.sum(0) / np.maximum(n_votes, 1)
            t = float(np.sum(n_votes * mean_vote * a) / max(np.sum(n_votes * a * a), 1e-12))  # 2p - 1
            p1 = float(np.clip((1 + t) / 2, 0.01, 0.99))
            self.class_balance = np.array([1 - p1, p1])
        self.fit_params = {"triplets": int(sum(len(e) for e in estimates) // 3),
                           "fallback": [int(j) for j in fallback]}

    def _posterior(self, L: np.ndarray) -> np.ndarray:
        S = np.where(L < 0, 0.0, 2.0 * L - 1.0)
        logit = np.log(self.class_balance[1] / self.class_balance[0]) + S @ np.log(self.acc / (1 - self.acc))
        p1 = expit(logit)
        return np.stack([1 - p1, p1], 1)

    def _accuracies(self) -> np.ndarray:
        return self.acc

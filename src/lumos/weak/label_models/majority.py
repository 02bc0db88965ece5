"""Majority vote and weighted majority vote: no parameters learned from agreements (or one pass of them)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from scipy.special import expit

from ...errors import InputError
from ...params import Anything, Bool, Choice, Numbers, Optional
from ..base import LabelModel, register, softmax
from ..matrix import as_matrix, vote_counts

TIES = ("uniform", "prior", "random", "abstain")


def _winners(counts: np.ndarray) -> np.ndarray:
    """(N, K) vote counts -> (N, K) bool: the classes with the most votes."""
    return np.isclose(counts, counts.max(1, keepdims=True)) & (counts > 0)


def loo_agreement(L: np.ndarray, K: int) -> np.ndarray:
    """(M,) how often each LF agrees with the majority vote of the other LFs (ties split evenly), over the rows
    where it and at least one other LF vote; NaN where it never overlaps another LF."""
    counts = vote_counts(L, K)
    out = np.full(L.shape[1], np.nan)
    for j in range(L.shape[1]):
        rows = np.flatnonzero(L[:, j] >= 0)
        others = counts[rows].copy()
        others[np.arange(rows.size), L[rows, j]] -= 1
        rows_ok = others.sum(1) > 0
        if rows_ok.any():
            win = _winners(others[rows_ok])
            out[j] = float(np.mean(win[np.arange(win.shape[0]), L[rows[rows_ok], j]] / win.sum(1)))
    return out


@register("majority")
class MajorityVote(LabelModel):
    """Each covered row gets the class most LFs vote for.

    Assumes every LF is equally reliable and LFs err independently; fails when several LFs are copies of one
    another (a correlated block outvotes better, independent LFs). Learns nothing, so it needs no agreement
    between LFs and is hard to beat when LFs are few, sparse or similar in accuracy.

    ``ties`` (rows where classes share the most votes): "uniform" (probability split among them), "prior"
    (split in proportion to the class balance: ``class_balance`` if given, else the classes' shares of the
    untied rows), "random" (one of them, seeded per fit), "abstain" (the row counts as uncovered and gets the
    ``abstain`` fallback). ``soft=True``: probabilities are the vote shares instead (ties need no breaking).
    ``accuracies`` are leave-one-out agreements: how often an LF agrees with the majority of the others.
    """

    param_rules = {**LabelModel.param_rules, "ties": Choice(*TIES), "soft": Bool()}

    def __init__(self, *, ties: str = "uniform", soft: bool = False, seed: int = 0, abstain: str = "prior",
                 class_balance: Sequence[float] | None = None):
        super().__init__(seed=seed, abstain=abstain, class_balance=class_balance)
        self.check(ties=ties, soft=soft)
        self.ties, self.soft = ties, bool(soft)

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "ties": self.ties, "soft": self.soft}

    def _fit(self, L: np.ndarray, K: int, rng: np.random.Generator) -> None:
        counts = vote_counts(L, K)
        win = _winners(counts)
        untied = win.sum(1) == 1
        if self.fixed_balance is not None:
            self.class_balance = self.fixed_balance
        elif untied.any():
            self.class_balance = (win[untied].sum(0) + 1.0) / (untied.sum() + K)
        else:
            self.class_balance = np.full(K, 1.0 / K)
        self._acc = loo_agreement(L, K)
        self.fit_params = {"tied_rows": int((win.sum(1) > 1).sum())}

    def _posterior(self, L: np.ndarray) -> np.ndarray:
        counts = vote_counts(L, self.n_classes)
        if self.soft:
            return counts / counts.sum(1, keepdims=True)
        win = _winners(counts).astype(np.float64)
        if self.ties == "prior":
            win *= self.class_balance
        elif self.ties == "random":
            rng = np.random.default_rng(self.seed)
            tied = np.flatnonzero(win.sum(1) > 1)
            picks = [rng.choice(np.flatnonzero(win[i])) for i in tied]
            win[tied] = 0.0
            win[tied, picks] = 1.0
        return win / win.sum(1, keepdims=True)

    def _label(self, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        probs, covered = super()._label(L)
        if self.ties == "abstain" and not self.soft:
            tied = _winners(vote_counts(L, self.n_classes)).sum(1) > 1
            probs[tied], covered = self._fallback(), covered & ~tied
        return probs, covered

    def _accuracies(self) -> np.ndarray:
        return self._acc


def log_odds(accuracy: np.ndarray, K: int) -> np.ndarray:
    """The naive-Bayes vote weight of an LF right with probability ``accuracy`` and wrong uniformly otherwise."""
    a = np.clip(np.asarray(accuracy, dtype=np.float64), 0.01, 0.99)
    return np.log(a * (K - 1) / (1 - a))


@register("weighted_majority")
class WeightedMajorityVote(LabelModel):
    """Each class scores the summed weights of the LFs voting for it; probabilities are the softmax of the
    scores (plus the log class balance when ``class_balance`` is given).

    Assumes LFs err independently and, when wrong, pick any wrong class alike (the "symmetric" model): then
    weights log(a (K - 1) / (1 - a)) from accuracies a give the exact posterior. Weights come from, in this
    order: ``weights`` (M,) given; ``dev=(L_dev, y_dev)``, a small gold-labelled set (accuracies with add-one
    smoothing); or each LF's leave-one-out agreement with the majority of the others (one pass, no iteration).
    """

    param_rules = {**LabelModel.param_rules, "weights": Optional(Numbers()), "dev": Anything()}

    def __init__(self, *, weights: Sequence[float] | None = None, dev: tuple[Any, Sequence[int]] | None = None,
                 seed: int = 0, abstain: str = "prior", class_balance: Sequence[float] | None = None):
        super().__init__(seed=seed, abstain=abstain, class_balance=class_balance)
        self.check(weights=weights)
        if dev is not None and not (isinstance(dev, (tuple, list)) and len(dev) == 2):
            raise InputError(f"{self.name}: dev must be a pair (L_dev, y_dev) of a label matrix and its gold labels; "
                             f"got {type(dev).__name__}.")
        if weights is not None and dev is not None:
            raise InputError("pass weights= or dev=(L_dev, y_dev), not both.")
        self.weights = None if weights is None else np.asarray(weights, dtype=np.float64)
        self.dev = dev

    def settings(self) -> dict[str, Any]:
        source = "given" if self.weights is not None else "dev" if self.dev is not None else "agreement"
        return {**super().settings(), "weights_from": source}

    def _fit(self, L: np.ndarray, K: int, rng: np.random.Generator) -> None:
        M = L.shape[1]
        if self.weights is not None:
            if self.weights.shape != (M,):
                raise InputError(f"weights has shape {self.weights.shape}; expected ({M},), one per LF.")
            w = self.weights
            self._acc = expit(w - np.log(K - 1))  # exp(w) / (exp(w) + K - 1), without overflow
        elif self.dev is not None:
            self._acc = dev_accuracies(self.dev, M, K)
            w = log_odds(self._acc, K)
        else:
            self._acc = np.nan_to_num(loo_agreement(L, K), nan=1.0 / K)
            w = log_odds(self._acc, K)
        self.w = w
        self.class_balance = self.fixed_balance if self.fixed_balance is not None else np.full(K, 1.0 / K)
        self.fit_params = {"weights": np.round(w, 4).tolist()}

    def _posterior(self, L: np.ndarray) -> np.ndarray:
        scores = vote_counts(L, self.n_classes, self.w)
        if self.fixed_balance is not None:
            scores = scores + np.log(self.fixed_balance)
        return softmax(scores)

    def _accuracies(self) -> np.ndarray:
        return self._acc


def dev_accuracies(dev: tuple[Any, Sequence[int]], M: int, K: int) -> np.ndarray:
    """(M,) accuracies on a gold dev set (L_dev (n, M), y_dev (n,)), add-one smoothed: (right + 1) / (votes + 2)."""
    L_dev, y_dev = dev
    Ld = as_matrix(L_dev, K).L
    y = np.asarray(y_dev)
    if Ld.shape[1] != M or y.shape != (Ld.shape[0],):
        raise InputError(f"dev=(L_dev, y_dev) needs L_dev (n, {M}) and y_dev (n,); got {Ld.shape} and {y.shape}.")
    fired = Ld >= 0
    right = (Ld == y[:, None]) & fired
    return (right.sum(0) + 1.0) / (fired.sum(0) + 2.0)

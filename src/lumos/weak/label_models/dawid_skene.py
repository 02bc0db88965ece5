"""Dawid-Skene: a full confusion matrix per LF, learned by expectation-maximisation (Dawid & Skene, 1979)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from scipy import sparse

from ...params import Choice, Float, Int
from ..base import LabelModel, register, softmax


@register("dawid_skene")
class DawidSkene(LabelModel):
    """LF j gives outcome l on an example of class y with probability C_j[y, l]; EM alternates the posteriors
    of the true classes and the confusion matrices (with the class balance, unless ``class_balance`` is given).

    Assumes LFs are independent given the true class. ``abstentions="model"`` (default): abstaining is one
    more outcome, so when an LF fires may depend on the class (all that a one-class LF, such as a keyword
    list, says) and abstentions count as evidence. ``abstentions="ignore"`` (the classic model): abstentions
    carry no information ("missing at random"), and one-class LFs teach it nothing. Correlated LFs
    are counted as independent evidence, so a block of copies is over-trusted. Starts from the majority
    vote's soft labels (deterministic; the seed is recorded), which puts EM in the basin where LFs are better
    than chance. ``smoothing``: add-alpha (Dirichlet) counts on every confusion entry and the class balance.
    Stops when the log-likelihood improves by less than ``tol`` (relative) or after ``max_iter`` iterations.
    """

    param_rules = {**LabelModel.param_rules, "abstentions": Choice("ignore", "model"), "max_iter": Int(low=1),
                   "tol": Float(low=0), "smoothing": Float(low=0, low_open=True)}

    def __init__(self, *, abstentions: str = "model", max_iter: int = 200, tol: float = 1e-7,
                 smoothing: float = 0.5, seed: int = 0, abstain: str = "prior",
                 class_balance: Sequence[float] | None = None):
        super().__init__(seed=seed, abstain=abstain, class_balance=class_balance)
        self.check(abstentions=abstentions, max_iter=max_iter, tol=tol, smoothing=smoothing)
        self.abstentions = abstentions
        self.max_iter, self.tol, self.smoothing = int(max_iter), float(tol), float(smoothing)

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "abstentions": self.abstentions, "max_iter": self.max_iter, "tol": self.tol,
                "smoothing": self.smoothing}

    @property
    def _shift(self) -> int:
        """Outcome codes: the vote (ignore), or 0 for an abstention and vote + 1 (model)."""
        return 1 if self.abstentions == "model" else 0

    def _fit(self, L: np.ndarray, K: int, rng: np.random.Generator) -> None:
        rows = L if self._shift else L[(L >= 0).any(1)]
        patterns, weight = np.unique(rows, axis=0, return_counts=True)  # EM on distinct rows
        M, n_out = L.shape[1], K + self._shift
        V = indicators(patterns + self._shift, n_out)  # (n, M n_out) sparse one-hot outcomes
        w = weight[:, None].astype(np.float64)
        votes = np.stack([(patterns == k).sum(1) for k in range(K)], 1).astype(np.float64)
        q = (votes + 1e-9) / (votes + 1e-9).sum(1, keepdims=True)  # majority-vote soft labels (uniform if none)
        a = self.smoothing
        previous, converged, it, loglik = -np.inf, False, 0, -np.inf
        for it in range(1, self.max_iter + 1):
            # M-step: conf[j, y, l] = P(LF j gives outcome l | Y = y), and the class balance, from the soft labels
            counts = np.asarray(V.T @ (w * q)).reshape(M, n_out, K).transpose(0, 2, 1) + a
            conf = counts / counts.sum(2, keepdims=True)
            balance = (self.fixed_balance if self.fixed_balance is not None
                       else ((w * q).sum(0) + a) / (w.sum() + K * a))
            logits = np.log(balance) + np.asarray(V @ _flat_log(conf))  # E-step
            top = logits.max(1, keepdims=True)
            loglik = float(np.sum(weight * (top[:, 0] + np.log(np.exp(logits - top).sum(1)))))
            q = softmax(logits)
            if abs(loglik - previous) <= self.tol * max(1.0, abs(loglik)):
                converged = True
                break
            previous = loglik
        self.confusion, self.class_balance = conf, balance
        self.fit_params = {"iterations": it, "converged": converged, "log_likelihood": loglik}

    def _posterior(self, L: np.ndarray) -> np.ndarray:
        V = indicators(L + self._shift, self.confusion.shape[2])
        return softmax(np.log(self.class_balance) + np.asarray(V @ _flat_log(self.confusion)))

    def _accuracies(self) -> np.ndarray:
        """P(vote right | LF votes) = sum_y p_y P(votes y | y) / sum_y p_y P(votes | y)."""
        K, s = self.n_classes, self._shift
        right = np.einsum("y,myy->m", self.class_balance, self.confusion[:, :, s:s + K])
        fires = np.einsum("y,myk->m", self.class_balance, self.confusion[:, :, s:])
        return right / fires


def _flat_log(conf: np.ndarray) -> np.ndarray:
    """conf (M, y, l) -> (M L, K) log table whose row (j, l) holds log P(LF j gives l | y) for every y."""
    M, K, n_out = conf.shape
    return np.log(conf).transpose(0, 2, 1).reshape(M * n_out, K)


def indicators(codes: np.ndarray, n_out: int) -> sparse.csr_matrix:
    """(N, M) outcome codes (negative: none) -> (N, M n_out) sparse one-hot: column j n_out + l is 1 where
    LF j gives outcome l."""
    rows, cols = np.nonzero(codes >= 0)
    return sparse.csr_matrix((np.ones(rows.size), (rows, cols * n_out + codes[rows, cols])),
                             shape=(codes.shape[0], codes.shape[1] * n_out))

"""Dawid-Skene: a full confusion matrix per LF, learned by expectation-maximisation (Dawid & Skene, 1979)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from scipy import sparse

from ..base import LabelModel, register, softmax


@register("dawid_skene")
class DawidSkene(LabelModel):
    """LF j votes l on an example of class y with probability C_j[y, l]; EM alternates the posteriors of the
    true classes and the confusion matrices (with the class balance, unless ``class_balance`` is given).

    Assumes LFs are independent given the true class, and abstentions carry no information (an LF abstains
    independently of the class: "missing at random"). Correlated LFs are counted as independent evidence,
    so a block of copies is over-trusted. Starts from the majority vote's soft labels (deterministic; the
    seed is recorded), which puts EM in the basin where LFs are better than chance. ``smoothing``: add-alpha
    (Dirichlet) counts on every confusion entry and the class balance, so no probability is 0. Stops when the
    log-likelihood improves by less than ``tol`` (relative) or after ``max_iter`` iterations.
    """

    def __init__(self, *, max_iter: int = 200, tol: float = 1e-7, smoothing: float = 0.5, seed: int = 0,
                 abstain: str = "prior", class_balance: Sequence[float] | None = None):
        super().__init__(seed=seed, abstain=abstain, class_balance=class_balance)
        self.max_iter, self.tol, self.smoothing = int(max_iter), float(tol), float(smoothing)

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "max_iter": self.max_iter, "tol": self.tol, "smoothing": self.smoothing}

    def _fit(self, L: np.ndarray, K: int, rng: np.random.Generator) -> None:
        patterns, weight = np.unique(L[(L >= 0).any(1)], axis=0, return_counts=True)  # EM on distinct rows
        V = indicators(patterns, K)  # (n, M K) sparse one-hot votes
        w = weight[:, None].astype(np.float64)
        M = L.shape[1]
        q = np.asarray(V @ np.tile(np.eye(K), (M, 1)))  # votes per class: majority-vote soft labels
        q /= q.sum(1, keepdims=True)
        a = self.smoothing
        previous, converged, it, loglik = -np.inf, False, 0, -np.inf
        for it in range(1, self.max_iter + 1):
            # M-step: conf[j, y, l] = P(LF j votes l | Y = y), and the class balance, from the soft labels
            counts = np.asarray(V.T @ (w * q)).reshape(M, K, K).transpose(0, 2, 1) + a
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
        self._acc = self._lf_accuracies(V, w * q, M, K)
        self.fit_params = {"iterations": it, "converged": converged, "log_likelihood": loglik}

    def _lf_accuracies(self, V: sparse.csr_matrix, q: np.ndarray, M: int, K: int) -> np.ndarray:
        """P(vote right | LF votes) = sum_y P(Y = y | LF votes) C_j[y, y], with P(Y | LF votes) the mean
        posterior over the rows it votes on."""
        mass = np.asarray(V.T @ q).reshape(M, K, K).sum(1)  # (M, y): posterior mass of the rows LF j votes on
        n_votes = mass.sum(1)
        diag = np.einsum("myy->my", self.confusion)
        return np.where(n_votes > 0, (mass * diag).sum(1) / np.maximum(n_votes, 1e-12), np.nan)

    def _posterior(self, L: np.ndarray) -> np.ndarray:
        V = indicators(L, self.n_classes)
        return softmax(np.log(self.class_balance) + np.asarray(V @ _flat_log(self.confusion)))

    def _accuracies(self) -> np.ndarray:
        return self._acc


def _flat_log(conf: np.ndarray) -> np.ndarray:
    """conf (M, y, l) -> (M K, K) log table whose row (j, l) holds log P(LF j votes l | y) for every y."""
    M, K, _ = conf.shape
    return np.log(conf).transpose(0, 2, 1).reshape(M * K, K)


def indicators(L: np.ndarray, K: int) -> sparse.csr_matrix:
    """(N, M) votes -> (N, M K) sparse one-hot: column j K + l is 1 where LF j votes l."""
    rows, cols = np.nonzero(L >= 0)
    return sparse.csr_matrix((np.ones(rows.size), (rows, cols * K + L[rows, cols])), shape=(L.shape[0], L.shape[1] * K))

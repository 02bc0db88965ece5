"""A Snorkel-style label model: class-conditional vote probabilities from the LFs' agreement structure
(Ratner et al., "Training complex models with multi-task weak supervision", AAAI 2019)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from scipy.optimize import minimize

from ...params import Float, Int
from ..base import LabelModel, register, softmax


@register("matrix_completion")
class MatrixCompletion(LabelModel):
    """Learns mu[(j, l), y] = P(LF j votes l | Y = y) by matching the observed second moments of the one-hot
    votes, O = E[v v^T] (v: the (M K,) indicators of every LF's vote), to mu P mu^T (P = diag(class
    balance)) on the entries between different LFs, plus the first moments E[v] = mu p. Fitted with
    L-BFGS-B (bounded to [0, 1]) from mu at a prior accuracy ``init_accuracy``; ``l2`` pulls mu towards
    that start. The class balance is ``class_balance``, or uniform when not given (as in Snorkel): these
    moments do not identify it (a one-parameter family of balances fits them equally well), so pass the
    balance of a small gold set when the classes are far from even.

    Assumes LFs are independent given the true class (the off-diagonal blocks of O factor through Y), and LFs
    are better than chance (the start picks that solution among the label permutations that fit equally
    well). LF abstentions may depend on the class (mu holds the coverage per class), but at prediction an
    abstention carries no evidence, as in Snorkel: P(y | votes) is proportional to p_y prod_j mu[(j, vote_j),
    y] over the LFs that vote. Deterministic: no random start (the seed is recorded).
    """

    param_rules = {**LabelModel.param_rules, "init_accuracy": Float(0, 1, low_open=True, high_open=True),
                   "l2": Float(low=0), "max_iter": Int(low=1)}

    def __init__(self, *, init_accuracy: float = 0.7, l2: float = 0.0, max_iter: int = 2000, seed: int = 0,
                 abstain: str = "prior", class_balance: Sequence[float] | None = None):
        super().__init__(seed=seed, abstain=abstain, class_balance=class_balance)
        self.check(init_accuracy=init_accuracy, l2=l2, max_iter=max_iter)
        self.init_accuracy, self.l2, self.max_iter = float(init_accuracy), float(l2), int(max_iter)

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "init_accuracy": self.init_accuracy, "l2": self.l2, "max_iter": self.max_iter}

    def _fit(self, L: np.ndarray, K: int, rng: np.random.Generator) -> None:
        N, M = L.shape
        D = M * K
        rows, cols = np.nonzero(L >= 0)
        V = np.zeros((N, D))
        V[rows, cols * K + L[rows, cols]] = 1.0
        O = V.T @ V / N
        first = V.mean(0)
        lf_of = np.repeat(np.arange(M), K)
        mask = (lf_of[:, None] != lf_of[None, :]).astype(np.float64)
        p = self.fixed_balance if self.fixed_balance is not None else np.full(K, 1.0 / K)
        a0 = self.init_accuracy
        prior = np.where(np.eye(K, dtype=bool), a0, (1 - a0) / (K - 1))  # (vote l, class y)
        mu0 = np.clip(first.reshape(M, K, 1) * prior[None] / p[None, None], 1e-4, 1.0).reshape(D, K)
        scale = 1.0 / max(float(np.mean(O[mask > 0] ** 2)), 1e-12)  # loss ~ 1 at the start: tolerances mean the same

        def loss(z: np.ndarray) -> tuple[float, np.ndarray]:
            mu = z.reshape(D, K)
            R = mask * (mu * p @ mu.T - O)
            r1 = mu @ p - first
            f = (R * R).sum() + r1 @ r1 + self.l2 * ((mu - mu0) ** 2).sum()
            grad = 4 * R @ mu * p + 2 * np.outer(r1, p) + 2 * self.l2 * (mu - mu0)
            return scale * f, scale * grad.ravel()

        res = minimize(loss, mu0.ravel(), jac=True, method="L-BFGS-B", bounds=[(0.0, 1.0)] * (D * K),
                       options={"maxiter": self.max_iter, "ftol": 1e-14, "gtol": 1e-10})
        self.mu, self.class_balance = res.x.reshape(M, K, K), p
        self.fit_params = {"iterations": int(res.nit), "converged": bool(res.success), "loss": float(res.fun)}

    def _posterior(self, L: np.ndarray) -> np.ndarray:
        log_mu = np.log(np.clip(self.mu, 1e-6, 1.0))  # (M, l, y)
        logits = np.tile(np.log(self.class_balance), (len(L), 1))
        for j in range(L.shape[1]):
            voted = L[:, j] >= 0
            logits[voted] += log_mu[j, L[voted, j]]
        return softmax(logits)

    def _accuracies(self) -> np.ndarray:
        p = self.class_balance
        votes = (self.mu * p).sum((1, 2))  # P(LF votes)
        right = np.einsum("jyy,y->j", self.mu, p)
        return np.where(votes > 0, right / np.maximum(votes, 1e-12), np.nan)

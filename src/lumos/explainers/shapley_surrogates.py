"""Cheap models of a game v(S) whose Shapley values can be computed without the model (regression_shap fits them).

A surrogate is fitted on coalitions z in {0, 1}^n (z_j = 1: player j present) and their values, through a
``link``: "identity" fits v itself, "logit" fits log(v / (1 - v)) (a classifier's probability is a squashed sum,
so its interactions are far simpler on the logit scale). The inner models:
- ``"linear"``: c + a.z; Shapley values a.
- ``"quadratic"``: c + a.z + sum_{j<k} c_jk z_j z_k (ridge, penalty chosen by leave-one-out error);
  Shapley values a_j + 1/2 sum_k c_jk (each pair's Harsanyi dividend split between its two players).
- ``"trees"``: gradient-boosted trees on z. A leaf that needs the players P present and Q absent is the game
  prod_P z prod_Q (1 - z), whose Shapley value is (|P|-1)! |Q|! / (|P|+|Q|)! for a member of P and
  -|P|! (|Q|-1)! / (|P|+|Q|)! for a member of Q (the random-order formula); a tree is the sum of its leaves.
With the identity link these closed forms are the surrogate's exact Shapley values. Through the logit link they
are computed by enumerating the surrogate on all 2^n coalitions (n <= ``ENUMERATE_UP_TO``), else by antithetic
permutation sampling of the surrogate (no model calls either way; the sampling variance is returned).
"""

from __future__ import annotations

from math import factorial

import numpy as np
from sklearn.ensemble import GradientBoostingRegressor

from .exact_shapley import all_coalitions, shapley_from_values

SURROGATES = ("quadratic", "linear", "trees")
LINKS = ("logit", "identity")
ENUMERATE_UP_TO = 16
_EPS = 1e-6


class Surrogate:
    """``kind`` fitted to coalitions z (m, n) bool and values y (m,) through ``link``."""

    def __init__(self, kind: str, link: str, z: np.ndarray, y: np.ndarray, seed: int = 0):
        if kind not in SURROGATES:
            raise ValueError(f"unknown surrogate {kind!r}; use one of {SURROGATES}")
        if link not in LINKS:
            raise ValueError(f"unknown link {link!r}; use one of {LINKS}")
        self.kind, self.link, self.n = kind, link, z.shape[1]
        target = _logit(y) if link == "logit" else y
        self.inner = _Trees(z, target, seed) if kind == "trees" else _Polynomial(z, target, 1 if kind == "linear" else 2)

    def predict(self, z: np.ndarray) -> np.ndarray:
        """(m, n) bool -> (m,) the surrogate's values (probabilities through the logit link)."""
        out = np.empty(len(z))
        for lo in range(0, len(z), 8192):
            out[lo:lo + 8192] = self._inverse(self.inner.predict(z[lo:lo + 8192]))
        return out

    def held_out(self) -> np.ndarray | None:
        """(m,) each training coalition's value predicted by the fit without it (polynomials: leave-one-out in
        closed form), or None where that needs refitting (trees)."""
        loo = getattr(self.inner, "loo", None)
        return None if loo is None else self._inverse(loo)

    def _inverse(self, h: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-h)) if self.link == "logit" else h

    def shapley(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """The surrogate's Shapley values (n,) and the variance of computing them (0 unless sampled)."""
        n = self.n
        if self.link == "identity":
            return self.inner.shapley(), np.zeros(n)
        if n <= ENUMERATE_UP_TO:
            return shapley_from_values(self.predict(all_coalitions(n)), n), np.zeros(n)
        return self._sampled(rng, pairs=max(64, 40_000 // n))

    def _sampled(self, rng: np.random.Generator, pairs: int) -> tuple[np.ndarray, np.ndarray]:
        """Antithetic permutation sampling of the surrogate: ``pairs`` permutations and their reverses."""
        n = self.n
        perms = np.array([rng.permutation(n) for _ in range(pairs)])
        perms = np.concatenate([perms, perms[:, ::-1]])
        if isinstance(self.inner, _Polynomial):  # O(n^2) a permutation instead of O(n^3)
            v = self._inverse(self.inner.prefix_values(perms))
        else:
            rank = np.argsort(perms, axis=1)  # position of each player
            prefixes = rank[:, None, :] < np.arange(n + 1)[None, :, None]  # (P, n + 1, n): first k players present
            v = self.predict(prefixes.reshape(-1, n)).reshape(len(perms), n + 1)
        marginal = np.diff(v, axis=1)  # (P, n): marginal of the player at each position
        phi = np.zeros((len(perms), n))
        np.put_along_axis(phi, perms, marginal, axis=1)
        paired = (phi[:pairs] + phi[pairs:]) / 2
        return paired.mean(0), paired.var(0, ddof=1) / pairs


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


class _Polynomial:
    """Ridge on the players (order 1) or the players and their pairs (order 2), intercept unpenalised; the
    penalty minimises the closed-form leave-one-out error (one SVD for every candidate), whose held-out
    predictions are kept in ``loo``."""

    alphas = np.logspace(-6, 2, 17)

    def __init__(self, z: np.ndarray, y: np.ndarray, order: int):
        n = z.shape[1]
        self.n, self.order = n, order
        self.pairs = np.array([(j, k) for j in range(n) for k in range(j + 1, n)], dtype=np.int64).reshape(-1, 2)
        x = self._features(z)
        mx, my = x.mean(0), y.mean()
        u, sv, vt = np.linalg.svd(x - mx, full_matrices=False)
        uty = u.T @ (y - my)
        best = None
        for alpha in self.alphas:
            shrink = sv**2 / (sv**2 + alpha)
            fitted = u @ (shrink * uty) + my
            hat = (u**2) @ shrink + 1.0 / len(y)  # leverage, the intercept's included
            loo = y - (y - fitted) / np.maximum(1 - hat, 1e-9)
            err = np.mean((y - loo) ** 2)
            if best is None or err < best[0]:
                best = (err, alpha, loo)
        _, alpha, self.loo = best
        self.coef_ = vt.T @ (sv / (sv**2 + alpha) * uty)
        self.intercept_ = my - mx @ self.coef_

    def _features(self, z: np.ndarray) -> np.ndarray:
        z = z.astype(np.float64)
        if self.order == 1:
            return z
        return np.concatenate([z, z[:, self.pairs[:, 0]] * z[:, self.pairs[:, 1]]], axis=1)

    def predict(self, z: np.ndarray) -> np.ndarray:
        return self._features(z) @ self.coef_ + self.intercept_

    def prefix_values(self, perms: np.ndarray) -> np.ndarray:
        """(P, n) orders -> (P, n + 1) the polynomial on each order's first k players, k = 0..n, built up one
        player at a time (the player's own term plus its pairs with the players before it)."""
        n = self.n
        pair = np.zeros((n, n))
        if self.order == 2:
            pair[self.pairs[:, 0], self.pairs[:, 1]] = self.coef_[n:]
            pair += pair.T
        upper = np.triu(np.ones((n, n), dtype=bool), 1)
        steps = np.empty((len(perms), n))
        chunk = max(1, 2**22 // (n * n))
        for lo in range(0, len(perms), chunk):
            p = perms[lo:lo + chunk]
            before = (pair[p[:, :, None], p[:, None, :]] * upper).sum(1)  # (p, n): pairs with earlier players
            steps[lo:lo + chunk] = self.coef_[:n][p] + before
        start = np.full((len(perms), 1), self.intercept_)
        return np.concatenate([start, self.intercept_ + np.cumsum(steps, axis=1)], axis=1)

    def shapley(self) -> np.ndarray:
        coef = self.coef_
        phi = coef[:self.n].copy()
        if self.order == 2:
            np.add.at(phi, self.pairs[:, 0], coef[self.n:] / 2)
            np.add.at(phi, self.pairs[:, 1], coef[self.n:] / 2)
        return phi


class _Trees:
    """Gradient-boosted regression trees on the coalition indicators."""

    def __init__(self, z: np.ndarray, y: np.ndarray, seed: int):
        self.n = z.shape[1]
        self.model = GradientBoostingRegressor(n_estimators=100, max_depth=3, learning_rate=0.1,
                                               random_state=seed).fit(z.astype(np.float64), y)

    def predict(self, z: np.ndarray) -> np.ndarray:
        return self.model.predict(z.astype(np.float64))

    def shapley(self) -> np.ndarray:
        return self.model.learning_rate * sum(tree_shapley(t.tree_, self.n) for t in self.model.estimators_[:, 0])


def tree_shapley(tree, n: int) -> np.ndarray:
    """(n,) exact Shapley values of the game S -> tree(1_S), for an sklearn tree on binary features."""
    phi = np.zeros(n)
    stack: list[tuple[int, tuple[int, ...], tuple[int, ...]]] = [(0, (), ())]  # node, needed present, absent
    while stack:
        node, present, absent = stack.pop()
        left, right = tree.children_left[node], tree.children_right[node]
        if left == -1:
            value = float(tree.value[node].reshape(-1)[0])
            p, q = len(present), len(absent)
            for j in present:
                phi[j] += value * factorial(p - 1) * factorial(q) / factorial(p + q)
            for j in absent:
                phi[j] -= value * factorial(p) * factorial(q - 1) / factorial(p + q)
            continue
        j = int(tree.feature[node])  # z_j <= 0.5 (j absent) goes left
        stack.append((left, present, absent + (j,)))
        stack.append((right, present + (j,), absent))
    return phi

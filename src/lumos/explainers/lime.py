"""LIME (Ribeiro et al. 2016): a weighted ridge surrogate on binary keep-masks of words, superpixels or columns.

Masks keep a uniformly drawn number of features (as the lime package does for text); each is weighted by an
exponential kernel on its cosine distance to the unperturbed input, which enters the fit too. The surrogate's
R^2 goes into extras.

``sampling="antithetic"`` (default): masks come in pairs drawn from one random order of the features and its
reverse, with the same number removed: the first mask removes the first k features of the order, the second
the last k, so the two remove disjoint sets where they can (antithetic variates; each mask alone is distributed
as in ``sampling="random"``, so the surrogate converges to the same answer with less variance).
``sampling="kernel"``: the same pairs, but the number removed is drawn in proportion to its share of the
kernel's weight (the chance lime's uniform count gives it, times the kernel at that count) instead of
uniformly, and every mask then weighs the same (kernel x chance / draw probability): importance sampling that
spends no model calls on masks the kernel all but ignores (with the default width, removing most features).
Its objective has the same expectation, so it converges to the same answer as the other two, with less error
at a given budget (docs/estimators.md).
``extras["std_error"]``: a bootstrap over the masks (over pairs, for antithetic sampling) of the surrogate's
coefficients: their sampling error around the many-sample answer, which is what ``tolerance=`` bounds. Beyond
``BOOTSTRAP_UP_TO`` features (where 100 refits of F x F systems would cost more than the model calls) it is the
bootstrap's linearisation: the sandwich variance over the same groups, times m / (m - F) for the fitted
coefficients, from one F x F solve (m x m when F > m). When the budget covers all 2^F masks, every mask enters
once with its expected weight (probability of being drawn x budget), the objective that sampling estimates.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np

from ..features.masking import random_subsets
from ..params import Choice, Float, param
from ..registry import register
from .sampled_base import CoalitionValues, SampledExplainer

SAMPLINGS = ("antithetic", "random", "kernel")
_BOOTSTRAP = 100
BOOTSTRAP_UP_TO = 64  # features; beyond, the linearised (sandwich) variance


def lime_masks(n_features: int, n_samples: int, rng: np.random.Generator, antithetic: bool = False,
               remove_probs: np.ndarray | None = None) -> np.ndarray:
    """(n_samples, F) bool masks removing 1..F features (the count uniform, or drawn with ``remove_probs`` (F,)
    for counts 1..F; then which uniformly); antithetic: in pairs from one order and its reverse. Drawn in blocks
    of rows, so no (n_samples, F) float array is held."""
    def counts(size: int) -> np.ndarray:
        if remove_probs is None:
            return rng.integers(1, n_features + 1, size=size)
        return rng.choice(np.arange(1, n_features + 1), size=size, p=remove_probs)

    if not antithetic:
        return ~random_subsets(counts(n_samples), n_features, rng)
    half = (n_samples + 1) // 2
    n_remove = counts(half)
    out = np.empty((2 * half, n_features), dtype=bool)
    block = max(1, 2**20 // max(n_features, 1))
    for lo in range(0, half, block):
        hi = min(half, lo + block)
        rank = rng.random((hi - lo, n_features)).argsort(axis=1).argsort(axis=1)  # each feature's place in the order
        k = n_remove[lo:hi, None]
        out[2 * lo:2 * hi:2] = rank >= k
        out[2 * lo + 1:2 * hi:2] = rank < n_features - k
    return out[:n_samples]


def cosine_kernel(masks: np.ndarray, width: float) -> np.ndarray:
    """sqrt(exp(-d^2 / width^2)) with d the cosine distance between each mask and the all-ones mask."""
    n = masks.shape[1]
    return count_kernel(n, width)[n - np.asarray(masks, dtype=bool).sum(1)]


def count_kernel(n_features: int, width: float) -> np.ndarray:
    """(F + 1,) the cosine kernel of a mask by the number of features it removes, 0..F."""
    d = 1.0 - np.sqrt(np.arange(n_features, -1, -1) / n_features)
    with np.errstate(over="ignore", divide="ignore"):  # a tiny width: weight 0 beyond distance 0, not 0 / 0
        return np.sqrt(np.exp(-((d / width) ** 2)))


def kernel_draws(n_features: int, width: float) -> tuple[np.ndarray, np.ndarray]:
    """For ``sampling="kernel"``: the (F,) probabilities of removing 1..F features, proportional to
    lime's uniform chance times the kernel (uniform where the kernel is 0 everywhere), and the (F + 1,) weight
    of a mask by count removed, kernel x (1 / F) / probability (the unperturbed mask: 1)."""
    kernel = count_kernel(n_features, width)
    mass = kernel[1:] / n_features
    probs = mass / mass.sum() if mass.sum() > 0 else np.full(n_features, 1.0 / n_features)
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(probs > 0, mass / probs, 0.0)
    return probs, np.concatenate([[1.0], weight])


def weighted_ridge(x: np.ndarray, y: np.ndarray, w: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Weighted ridge with an unpenalised intercept, for a stack of weight vectors: x (m, F), y (m,),
    w (B, m) -> coefficients (B, F) and intercepts (B,) (the same problem sklearn's Ridge solves)."""
    total = w.sum(1, keepdims=True)
    mx = w @ x / total  # (B, F)
    my = w @ y / total[:, 0]  # (B,)
    coef = np.stack([solve_normal(x - mx[b], wb, alpha, (x - mx[b]).T @ (wb * (y - my[b])))
                     for b, wb in enumerate(w)])
    return coef, my - (coef * mx).sum(1)


def solve_normal(xc: np.ndarray, w: np.ndarray, alpha: float, rhs: np.ndarray) -> np.ndarray:
    """A^-1 rhs for the ridge's normal matrix A = xc^T diag(w) xc + alpha I (F, F), xc (m, F) centred: directly,
    or through the (m, m) dual (Woodbury) when F > m, so a long text costs m^2 F, not F^3."""
    m, f = xc.shape
    if alpha > 0 and f > m:
        r = xc * np.sqrt(w)[:, None]
        return (rhs - r.T @ np.linalg.solve(r @ r.T + alpha * np.eye(m), r @ rhs)) / alpha
    return np.linalg.solve(xc.T @ (xc * w[:, None]) + alpha * np.eye(f), rhs)


@register("lime")
@dataclass(frozen=True)
class Lime(SampledExplainer):
    """``n_samples`` model evaluations (the unperturbed input comes free); ``kernel_width`` on cosine distance
    (lime's 25 on distance x 100 for text); ``alpha`` the ridge penalty; ``sampling`` "antithetic",
    "random" or "kernel" (see the module); ``tolerance``: the smallest budget whose bootstrap standard error is at most this everywhere."""

    summary = "Weighted linear surrogate fitted to the model's outputs on random feature removals."
    plain = ("A simple linear model fitted to the model's outputs on random variants of the input; its weights are "
             "the scores.")
    misleads = ("Results vary with the random variants; a poor fit (low R^2 in extras) means the linear model does "
                "not describe the model.")
    kernel_width: float = param(0.25, Float(low=0, low_open=True))
    alpha: float = param(0.01, Float(low=0))
    sampling: str = param("antithetic", Choice(*SAMPLINGS))

    def smallest_budget(self, n: int) -> int:
        return 2

    def plan(self, state, n, budget):
        masks = state.get("masks", np.zeros((0, n), dtype=bool))
        if len(masks) < budget - 1:  # extend the stream: a larger budget keeps the smaller one's masks
            k = budget - 1 - len(masks)
            antithetic = self.sampling != "random"
            probs = kernel_draws(n, self.kernel_width)[0] if self.sampling == "kernel" else None
            more = lime_masks(n, k + (k % 2 if antithetic else 0), state["rng"], antithetic, probs)  # whole pairs
            masks = np.concatenate([masks, more])
            state["masks"] = masks
        state["count"] = budget - 1
        return masks[:budget - 1]

    def estimate(self, state, game):
        n = game.n
        masks = np.concatenate([np.ones((1, n), bool), state["masks"][:state["count"]]])
        y = game(masks)
        x = masks.astype(np.float64)
        kernel = self._weights(masks)
        coef, intercept = weighted_ridge(x, y, kernel[None], self.alpha)
        state["extras"] = {"r2": _r2(x, y, kernel, coef[0], intercept[0]), "intercept": float(intercept[0])}
        if n > BOOTSTRAP_UP_TO:
            return coef[0], self._linearised_variance(x, y, kernel, coef[0], intercept[0])
        return coef[0], self._bootstrap_variance(x, y, kernel, state["rng"])

    def _weights(self, masks: np.ndarray) -> np.ndarray:
        """(M,) each mask's weight in the ridge: the kernel, over its draw probability's ratio to lime's."""
        if self.sampling != "kernel":
            return cosine_kernel(masks, self.kernel_width)
        return kernel_draws(masks.shape[1], self.kernel_width)[1][masks.shape[1] - masks.sum(1)]

    def _group(self) -> int:
        """Masks resampled together: a pair, for antithetic (and kernel) sampling."""
        return 1 if self.sampling == "random" else 2

    def _bootstrap_variance(self, x, y, kernel, rng) -> np.ndarray:
        """Variance of the coefficients over resamples of the drawn masks (pairs resampled together); the
        unperturbed row stays in every resample, as in every fit."""
        m = len(x) - 1
        group = self._group()
        groups = -(-m // group)
        picks = rng.integers(0, groups, size=(_BOOTSTRAP, groups))
        counts = np.zeros((_BOOTSTRAP, groups))
        np.add.at(counts, (np.arange(_BOOTSTRAP)[:, None], picks), 1.0)
        per_row = np.repeat(counts, group, axis=1)[:, :m]
        weights = np.concatenate([np.ones((_BOOTSTRAP, 1)), per_row], axis=1) * kernel[None]
        coef, _ = weighted_ridge(x, y, weights, self.alpha)
        return coef.var(0, ddof=1)

    def _linearised_variance(self, x, y, kernel, coef, intercept) -> np.ndarray:
        """The bootstrap's first-order approximation: A^-1 (sum_g (s_g - mean s)(s_g - mean s)^T) A^-1 with A the
        ridge's (F, F) normal matrix and s_g the score of group g (a mask, or a pair), x_i w_i r_i summed over it."""
        xc = x - kernel @ x / kernel.sum()
        scores = (xc * (kernel * (y - x @ coef - intercept))[:, None])[1:]  # the unperturbed row is in every fit
        group = self._group()
        pad = -len(scores) % group
        sums = np.concatenate([scores, np.zeros((pad, x.shape[1]))]).reshape(-1, group, x.shape[1]).sum(1)
        spread = solve_normal(xc, kernel, self.alpha, (sums - sums.mean(0)).T)  # (F, G)
        m, f = scores.shape
        return (spread**2).sum(1) * m / max(m - f, 1)  # for the fitted coefficients (as HC1): large when F >= m

    def exact(self, game: CoalitionValues, coalitions: np.ndarray) -> np.ndarray:
        n = game.n
        y = game(coalitions)
        removed = n - coalitions.sum(1)
        chance = np.where(removed > 0, 1.0 / (n * np.array([comb(n, int(k)) for k in removed])), 0.0)
        weight = np.where(removed > 0, chance * (self.n_samples - 1), 1.0) * cosine_kernel(coalitions, self.kernel_width)
        coef, _ = weighted_ridge(coalitions.astype(np.float64), y, weight[None], self.alpha)
        return coef[0]


def _r2(x, y, w, coef, intercept) -> float:
    mean = np.average(y, weights=w)
    spread = (w * (y - mean) ** 2).sum()
    if np.ptp(y) == 0 or spread == 0:  # nothing to explain where the weight is (e.g. a tiny kernel width)
        return 1.0
    resid = y - x @ coef - intercept
    return float(1 - (w * resid**2).sum() / spread)

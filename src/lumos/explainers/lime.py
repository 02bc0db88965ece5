"""LIME (Ribeiro et al. 2016): a weighted ridge surrogate on binary keep-masks of words, superpixels or columns.

Masks keep a uniformly drawn number of features (as the lime package does for text); each is weighted by an
exponential kernel on its cosine distance to the unperturbed input, which enters the fit too. The surrogate's
R^2 goes into extras.

``sampling="antithetic"`` (default): masks come in pairs drawn from one random order of the features and its
reverse, with the same number removed: the first mask removes the first k features of the order, the second
the last k, so the two remove disjoint sets where they can (antithetic variates; each mask alone is distributed
as in ``sampling="random"``, so the surrogate converges to the same answer with less variance).
``extras["std_error"]``: a bootstrap over the masks (over pairs, for antithetic sampling) of the surrogate's
coefficients: their sampling error around the many-sample answer, which is what ``tolerance=`` bounds. When
the budget covers all 2^F masks, every mask enters once with its expected weight (probability of being drawn x
budget), the objective that sampling estimates.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np

from ..params import Choice, Float, param
from ..registry import register
from .sampled_base import CoalitionValues, SampledExplainer

SAMPLINGS = ("antithetic", "random")
_BOOTSTRAP = 100


def lime_masks(n_features: int, n_samples: int, rng: np.random.Generator, antithetic: bool = False) -> np.ndarray:
    """(n_samples, F) bool masks removing 1..F features (count uniform, then which uniformly); antithetic: in
    pairs from one order and its reverse."""
    if not antithetic:
        n_remove = rng.integers(1, n_features + 1, size=n_samples)
        order = rng.random((n_samples, n_features)).argsort(axis=1)
        return order >= n_remove[:, None]
    half = (n_samples + 1) // 2
    n_remove = rng.integers(1, n_features + 1, size=half)
    order = rng.random((half, n_features)).argsort(axis=1)
    rank = np.argsort(order, axis=1)  # position of each feature in its order
    first = rank >= n_remove[:, None]
    second = rank < n_features - n_remove[:, None]
    return np.stack([first, second], axis=1).reshape(-1, n_features)[:n_samples]


def cosine_kernel(masks: np.ndarray, width: float) -> np.ndarray:
    """sqrt(exp(-d^2 / width^2)) with d the cosine distance between each mask and the all-ones mask."""
    kept = masks.sum(1)
    d = 1.0 - np.sqrt(kept / masks.shape[1])
    with np.errstate(over="ignore"):
        return np.exp(-0.5 * (d / width) ** 2)  # d / width first: a tiny width gives 0 weights, never 0 / 0


def weighted_ridge(x: np.ndarray, y: np.ndarray, w: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Weighted ridge with an unpenalised intercept, for a stack of weight vectors: x (m, F), y (m,),
    w (B, m) -> coefficients (B, F) and intercepts (B,) (the same problem sklearn's Ridge solves)."""
    total = w.sum(1, keepdims=True)
    mx = w @ x / total  # (B, F)
    my = w @ y / total[:, 0]  # (B,)
    gram = np.einsum("bm,mi,mj->bij", w, x, x) - total[:, :, None] * mx[:, :, None] * mx[:, None, :]
    rhs = w @ (x * y[:, None]) - total * mx * my[:, None]
    gram += alpha * np.eye(x.shape[1])[None]
    coef = np.linalg.solve(gram, rhs[..., None])[..., 0]
    return coef, my - (coef * mx).sum(1)


@register("lime")
@dataclass(frozen=True)
class Lime(SampledExplainer):
    """``n_samples`` model evaluations (the unperturbed input comes free); ``kernel_width`` on cosine distance
    (lime's 25 on distance x 100 for text); ``alpha`` the ridge penalty; ``sampling`` "antithetic" or
    "random"; ``tolerance``: the smallest budget whose bootstrap standard error is at most this everywhere."""

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
            antithetic = self.sampling == "antithetic"
            more = lime_masks(n, k + (k % 2 if antithetic else 0), state["rng"], antithetic)  # whole pairs
            masks = np.concatenate([masks, more])
            state["masks"] = masks
        state["count"] = budget - 1
        return masks[:budget - 1]

    def estimate(self, state, game):
        n = game.n
        masks = np.concatenate([np.ones((1, n), bool), state["masks"][:state["count"]]])
        y = game(masks)
        x = masks.astype(np.float64)
        kernel = cosine_kernel(masks, self.kernel_width)
        coef, intercept = weighted_ridge(x, y, kernel[None], self.alpha)
        state["extras"] = {"r2": _r2(x, y, kernel, coef[0], intercept[0]), "intercept": float(intercept[0])}
        return coef[0], self._bootstrap_variance(x, y, kernel, state["rng"])

    def _bootstrap_variance(self, x, y, kernel, rng) -> np.ndarray:
        """Variance of the coefficients over resamples of the drawn masks (pairs resampled together); the
        unperturbed row stays in every resample, as in every fit."""
        m = len(x) - 1
        group = 2 if self.sampling == "antithetic" else 1
        groups = -(-m // group)
        picks = rng.integers(0, groups, size=(_BOOTSTRAP, groups))
        counts = np.zeros((_BOOTSTRAP, groups))
        np.add.at(counts, (np.arange(_BOOTSTRAP)[:, None], picks), 1.0)
        per_row = np.repeat(counts, group, axis=1)[:, :m]
        weights = np.concatenate([np.ones((_BOOTSTRAP, 1)), per_row], axis=1) * kernel[None]
        coef, _ = weighted_ridge(x, y, weights, self.alpha)
        return coef.var(0, ddof=1)

    def exact(self, game: CoalitionValues, coalitions: np.ndarray) -> np.ndarray:
        n = game.n
        y = game(coalitions)
        removed = n - coalitions.sum(1)
        chance = np.where(removed > 0, 1.0 / (n * np.array([comb(n, int(k)) for k in removed])), 0.0)
        weight = np.where(removed > 0, chance * (self.n_samples - 1), 1.0) * cosine_kernel(coalitions, self.kernel_width)
        coef, _ = weighted_ridge(coalitions.astype(np.float64), y, weight[None], self.alpha)
        return coef[0]


def _r2(x, y, w, coef, intercept) -> float:
    if np.ptp(y) == 0:
        return 1.0
    resid = y - x @ coef - intercept
    mean = np.average(y, weights=w)
    return float(1 - (w * resid**2).sum() / (w * (y - mean) ** 2).sum())

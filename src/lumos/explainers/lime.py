"""LIME (Ribeiro et al. 2016): a weighted ridge surrogate on binary keep-masks of words, superpixels or columns.

Masks keep a uniformly drawn number of features (as the lime package does for text); each is weighted by an
exponential kernel on its cosine distance to the unperturbed input. The surrogate's R^2 goes into extras.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import Ridge

from ..registry import register
from .base import Attribution
from ..features.masking import random_subsets
from ..params import Float, Int, param
from .perturbation_base import PerturbationExplainer, target_outputs, to_output_shape


def lime_masks(n_features: int, n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """(n_samples, F) bool: the unperturbed input first, then masks removing 1..F features uniformly."""
    masks = np.ones((n_samples, n_features), dtype=bool)
    n_remove = rng.integers(1, n_features + 1, size=n_samples - 1)
    masks[1:] = ~random_subsets(n_remove, n_features, rng)
    return masks


def cosine_kernel(masks: np.ndarray, width: float) -> np.ndarray:
    """sqrt(exp(-d^2 / width^2)) with d the cosine distance between each mask and the all-ones mask."""
    kept = masks.sum(1)
    d = 1.0 - np.sqrt(kept / masks.shape[1])
    with np.errstate(over="ignore", divide="ignore"):  # a tiny width: weight 0 beyond distance 0, not 0 / 0
        return np.sqrt(np.exp(-((d / width) ** 2)))


@register("lime")
@dataclass(frozen=True)
class Lime(PerturbationExplainer):
    """``n_samples`` model evaluations; ``kernel_width`` on cosine distance (lime's 25 on distance x 100 for
    text); ``alpha`` the ridge penalty."""

    summary = "Weighted linear surrogate fitted to the model's outputs on random feature removals."
    plain = ("A simple linear model fitted to the model's outputs on random variants of the input; its weights are "
             "the scores.")
    misleads = ("Results vary with the random variants; a poor fit (low R^2 in extras) means the linear model does "
                "not describe the model.")
    random = True
    n_samples: int = param(1000, Int(low=2))
    kernel_width: float = param(0.25, Float(low=0, low_open=True))
    alpha: float = param(0.01, Float(low=0))

    def attribute(self, model, batch, targets, probs, seed):
        items = self.items(model, batch, seed)
        masks = [lime_masks(it.n_features, self.n_samples, np.random.default_rng(seed)) for it in items]
        outs = target_outputs(model, items, masks, targets)
        results = []
        for it, m, y in zip(items, masks, outs):
            weights = cosine_kernel(m, self.kernel_width)
            surrogate = Ridge(alpha=self.alpha).fit(m.astype(np.float64), y, sample_weight=weights)
            r2 = float(surrogate.score(m.astype(np.float64), y, sample_weight=weights)) if np.ptp(y) > 0 else 1.0
            results.append(Attribution(to_output_shape(it, surrogate.coef_),
                                       {"r2": r2, "intercept": float(surrogate.intercept_),
                                        "n_evaluations": len(m)}))
        return results

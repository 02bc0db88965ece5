"""Exact Shapley values by enumerating all 2^F coalitions (F <= 16 words, columns or image patches)."""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np

from ..errors import InputError
from ..registry import register
from .base import Attribution
from ..features.removal import SEGMENTATION
from ..params import Int, param
from .perturbation_base import PerturbationExplainer, target_outputs, to_output_shape


def all_coalitions(n: int) -> np.ndarray:
    """(2^n, n) bool: row m keeps feature j iff bit j of m is set."""
    return ((np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1).astype(bool)


def shapley_from_values(values: np.ndarray, n: int) -> np.ndarray:
    """values: (2^n,) v(S) indexed by the bitmask of S -> (n,) Shapley values."""
    sizes = np.array([bin(m).count("1") for m in range(2**n)])
    weight = np.array([1.0 / (n * comb(n - 1, s)) if s < n else 0.0 for s in range(n + 1)])
    phi = np.empty(n)
    masks = np.arange(2**n)
    for j in range(n):
        without = masks[(masks >> j) & 1 == 0]
        phi[j] = np.sum(weight[sizes[without]] * (values[without | (1 << j)] - values[without]))
    return phi


@register("exact_shapley")
@dataclass(frozen=True)
class ExactShapley(PerturbationExplainer):
    """Images are split by ``segmentation`` (default a 4 x 4 grid) to stay within ``max_features``."""

    summary = "Shapley values by full enumeration of feature coalitions; exact, for up to 16 features."
    plain = ("Each feature's fair share of the prediction over every combination of features (Shapley values), "
             "computed exactly.")
    misleads = ("Only feasible for a handful of features; removed features take a baseline, and the values depend on "
                "that choice.")
    segmentation: str = param("grid", SEGMENTATION)
    n_segments: int = param(16, Int(low=1, high=100_000))
    max_features: int = param(16, Int(low=1, high=20))  # 2^20 coalitions: about a million model rows

    def attribute(self, model, batch, targets, probs, seed):
        items = self.items(model, batch, seed)
        for i, it in enumerate(items):
            if it.n_features > self.max_features:
                raise InputError(f"exact_shapley enumerates 2^F coalitions; example {i} has F={it.n_features} "
                                 f"> max_features={self.max_features}. Use kernel_shap, or group features.")
        masks = [all_coalitions(it.n_features) for it in items]
        outs = target_outputs(model, items, masks, targets)
        return [Attribution(to_output_shape(it, shapley_from_values(v, it.n_features)),
                            {"base_value": float(v[0]), "n_evaluations": len(v)})
                for it, v in zip(items, outs)]

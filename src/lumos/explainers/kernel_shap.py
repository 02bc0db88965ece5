"""Kernel SHAP (Lundberg & Lee 2017): Shapley-kernel weighted least squares on coalitions.

The budget is spent the way that estimates Shapley values best: coalition sizes whose every subset fits in
the remaining budget are enumerated completely (smallest and largest first, where the kernel's mass is),
the rest is sampled in complementary pairs, and the efficiency constraint sum(phi) = f(x) - f(empty) is held
exactly by eliminating one unknown. When the budget covers all 2^F coalitions the result is the exact
Shapley value.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np

from ..registry import register
from .base import Attribution
from ..features.masking import random_subsets
from ..params import Int, param
from .perturbation_base import PerturbationExplainer, target_outputs, to_output_shape


def shapley_kernel_mass(n: int) -> np.ndarray:
    """(n + 1,) total kernel weight of each coalition size, normalised; 0 for the empty and full sizes."""
    mass = np.zeros(n + 1)
    s = np.arange(1, n)
    mass[1:n] = (n - 1) / (s * (n - s))
    return mass / mass.sum() if n > 1 else mass


def coalition_design(n: int, budget: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(S, n) bool coalitions (neither empty nor full) and their (S,) regression weights, S <= budget."""
    mass = shapley_kernel_mass(n)
    masks: list[np.ndarray] = []
    weights: list[float] = []
    left = budget
    open_sizes = list(range(1, n))
    for s in range(1, n // 2 + 1):  # enumerate whole strata (s and n - s together) while they fit
        pair = [s] if s == n - s else [s, n - s]
        count = sum(comb(n, k) for k in pair)
        share = sum(mass[k] for k in pair) / max(sum(mass[k] for k in open_sizes), 1e-300)
        if count > left or left * share < count - 1e-8:
            break
        for k in pair:
            for members in _subsets(n, k):
                m = np.zeros(n, dtype=bool)
                m[list(members)] = True
                masks.append(m)
                weights.append(mass[k] / comb(n, k))
            open_sizes.remove(k)
        left -= count
    if open_sizes and left >= 2:
        sampled, counts = _sample_pairs(n, np.array(open_sizes), mass[open_sizes], left, rng)
        masks.extend(sampled)
        weights.extend(mass[open_sizes].sum() * counts / counts.sum())
    if not masks:
        return np.zeros((0, n), dtype=bool), np.zeros(0)
    return np.array(masks, dtype=bool), np.array(weights)


def _sample_pairs(n: int, sizes: np.ndarray, size_mass: np.ndarray, budget: int,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Complementary pairs of random coalitions drawn (size ~ kernel mass) until ``budget`` distinct ones
    are found; returns the distinct coalitions and how often each was drawn (its regression weight)."""
    probs = size_mass / size_mass.sum()
    found: dict[bytes, int] = {}
    rows: dict[bytes, np.ndarray] = {}
    for _ in range(50):  # rounds; each draws the pairs still missing
        need = (budget - len(found)) // 2
        if need <= 0:
            break
        draws = rng.choice(sizes, size=need, p=probs)
        half = random_subsets(draws, n, rng)
        for m in np.concatenate([half, ~half]):
            key = np.packbits(m).tobytes()
            found[key] = found.get(key, 0) + 1
            rows.setdefault(key, m)
    keys = list(rows)[:budget]
    return np.array([rows[k] for k in keys]), np.array([found[k] for k in keys], dtype=np.float64)


def _subsets(n: int, k: int):
    from itertools import combinations

    return combinations(range(n), k)


def constrained_wls(masks: np.ndarray, weights: np.ndarray, y: np.ndarray, total: float) -> np.ndarray:
    """argmin sum w (y - masks @ phi)^2 subject to sum(phi) = total; y and total relative to v(empty)."""
    n = masks.shape[1]
    if n == 1:
        return np.array([total])
    x = masks.astype(np.float64)
    reduced = x[:, :-1] - x[:, -1:]
    target = y - x[:, -1] * total
    sw = np.sqrt(weights)
    head, *_ = np.linalg.lstsq(reduced * sw[:, None], target * sw, rcond=None)
    return np.append(head, total - head.sum())


@register("kernel_shap")
@dataclass(frozen=True)
class KernelShap(PerturbationExplainer):
    """``n_samples``: model evaluations per example (the empty coalition included)."""

    summary = "Shapley values estimated by kernel-weighted regression; exact when the budget covers 2^F."
    plain = ("Shapley values (each feature's fair share of the prediction) estimated from the model's outputs on "
             "random subsets of features.")
    misleads = ("An estimate: few samples on many features give noisy values; removed features take a background, and "
                "the values depend on it.")
    random = True
    n_samples: int = param(1000, Int(low=2))

    def attribute(self, model, batch, targets, probs, seed):
        items = self.items(model, batch, seed)
        designs = [coalition_design(it.n_features, self.n_samples - 1, np.random.default_rng(seed)) for it in items]
        masks = [np.concatenate([np.zeros((1, it.n_features), dtype=bool), m]) for it, (m, _) in zip(items, designs)]
        outs = target_outputs(model, items, masks, targets)
        full = probs[np.arange(len(targets)), targets]
        results = []
        for i, (it, (m, w), v) in enumerate(zip(items, designs, outs)):
            empty = float(v[0])
            phi = constrained_wls(m, w, v[1:] - empty, float(full[i]) - empty)
            exact = len(m) == 2**it.n_features - 2
            results.append(Attribution(to_output_shape(it, phi), {"base_value": empty, "n_evaluations": len(v),
                                                                   "exact": exact}))
        return results

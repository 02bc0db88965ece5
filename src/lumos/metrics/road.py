"""ROAD: remove and debias (Rong et al. 2022).

The top fraction of pixels is removed and filled by noisy linear imputation (each missing pixel the weighted
mean of its 8 neighbours, 1/6 sideways and 1/12 diagonally, solved jointly as a sparse system, plus small
Gaussian noise), so the filled region carries no shape of the mask for the model to pick up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import spsolve

from ..rationales import rank
from ..params import Choice, Float, Numbers, param
from ..registry import register
from .base import Metric

_NEIGHBOURS = [(-1, 0, 1 / 6), (1, 0, 1 / 6), (0, -1, 1 / 6), (0, 1, 1 / 6),
               (-1, -1, 1 / 12), (-1, 1, 1 / 12), (1, -1, 1 / 12), (1, 1, 1 / 12)]


def noisy_linear_impute(x: np.ndarray, missing: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """x: (C, H, W); missing: (H, W) bool -> x with the missing pixels imputed."""
    c, h, w = x.shape
    idx = np.flatnonzero(missing.ravel())
    if len(idx) == 0:
        return x.copy()
    unknown_pos = -np.ones(h * w, dtype=np.int64)
    unknown_pos[idx] = np.arange(len(idx))
    ys, xs = np.divmod(idx, w)
    flat = x.reshape(c, -1)
    rows, cols, vals = [np.arange(len(idx))], [np.arange(len(idx))], []
    rhs = np.zeros((len(idx), c))
    total = np.zeros(len(idx))
    entries = []
    for dy, dx, weight in _NEIGHBOURS:
        ny, nx = ys + dy, xs + dx
        inside = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)
        total[inside] += weight
        entries.append((inside, ny * w + nx, weight))
    vals.append(np.ones(len(idx)))
    for inside, neighbour, weight in entries:
        k = np.flatnonzero(inside)
        nb = neighbour[k]
        is_unknown = unknown_pos[nb] >= 0
        rows.append(k[is_unknown])
        cols.append(unknown_pos[nb[is_unknown]])
        vals.append(-weight / total[k[is_unknown]])
        rhs[k[~is_unknown]] += (weight / total[k[~is_unknown]])[:, None] * flat[:, nb[~is_unknown]].T
    a = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(len(idx), len(idx)))
    solved = spsolve(a.tocsc(), rhs).reshape(len(idx), c)
    out = flat.copy()
    out[:, idx] = solved.T + rng.normal(0.0, noise, size=(c, len(idx)))
    return out.reshape(c, h, w)


@register("road", kind="metric")
@dataclass(frozen=True)
class Road(Metric):
    """Mean target probability over removal ``levels`` (MoRF by default: lower is better).
    ``noise``: std of the imputation noise as a fraction of each image's value range."""

    family = "faithfulness"
    higher_is_better = False
    bounds = (0.0, 1.0)
    modalities = ("image",)
    summary = "Probability after removing top pixels with debiased (noisy linear) imputation."
    plain = ("The model's confidence after the top pixels are removed with an imputation that hides the removed "
             "region's shape.")
    misleads = "The result depends on the fraction removed, and the imputation can still leak what was there."
    shared_details = ("levels",)
    levels: tuple = param((0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
                          Numbers(low=0, high=1, low_open=True, high_open=True))
    order: str = param("most", Choice("most", "least"))
    noise: float = param(0.01, Float(low=0))

    def compute(self, ctx):
        images = []
        for x, s in zip(ctx.batch.x, ctx.scores()):
            ranked = rank(s if self.order == "most" else -s)
            spread = float(x.max() - x.min()) or 1.0
            rng = np.random.default_rng(ctx.seed)
            for level in self.levels:
                missing = np.zeros(len(s), dtype=bool)
                missing[ranked[:int(np.ceil(level * len(s) - 1e-9))]] = True
                images.append(noisy_linear_impute(x, missing.reshape(x.shape[1:]), self.noise * spread, rng))
        probs = ctx.model.evaluate(np.stack(images).astype(np.float32))
        curve = probs.reshape(len(ctx.batch.x), len(self.levels), -1)[np.arange(len(ctx.targets)), :, ctx.targets]
        return curve.mean(axis=1), {"levels": self.levels, "curve": curve}

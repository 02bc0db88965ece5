"""Infidelity (Yeh et al. 2019): E[(I . phi - (f(x) - f(x - I)))^2] over random perturbations I.

Images and tables: I ~ N(0, (noise * range)^2) per value. Text: I removes a random subset of words (each
with probability ``p_remove``), I . phi is the attribution mass removed and f(x - I) the prediction without
them. With ``normalize`` the attributions are first rescaled by the best factor beta (as in the paper's
code), so the score measures shape, not scale. All perturbations of all examples go through the model in one
batched stream.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..registry import register
from .base import Metric


@register("infidelity", kind="metric")
@dataclass(frozen=True)
class Infidelity(Metric):
    family = "robustness"
    higher_is_better = False
    bounds = (0.0, np.inf)
    summary = "Mean squared error between attribution-predicted and actual output changes under perturbation."
    n_samples: int = 50
    noise: float = 0.1
    p_remove: float = 0.3
    normalize: bool = True
    baseline: object = None
    background: object = None

    def compute(self, ctx):
        n, b = self.n_samples, len(ctx.targets)
        rng = np.random.default_rng(ctx.seed)
        if ctx.batch.modality == "text":
            masks = [np.random.default_rng(ctx.seed).random((n, len(s))) >= self.p_remove for s in ctx.scores()]
            dots = np.array([(~m) @ s for m, s in zip(masks, ctx.scores())])  # (B, n)
            delta = np.array(ctx.drops(masks, self.baseline, self.background))
        else:
            x = ctx.batch.x.astype(np.float64)
            spread = np.ptp(x.reshape(b, -1), axis=1).reshape((-1,) + (1,) * (x.ndim - 1))
            draws = rng.standard_normal((n,) + x.shape[1:])
            pert = self.noise * spread[:, None] * draws[None]  # (B, n, ...)
            attr = np.stack([np.broadcast_to(e.attributions, x.shape[1:]) for e in ctx.explanations])
            dots = (pert * attr[:, None]).reshape(b, n, -1).sum(axis=2)
            rows = np.concatenate([x[:, None], x[:, None] - pert], axis=1)  # the input itself first
            probs = ctx.model.evaluate(rows.reshape((-1,) + x.shape[1:]).astype(ctx.batch.x.dtype))
            p = probs.reshape(b, n + 1, -1)[np.arange(b), :, ctx.targets]
            delta = p[:, :1] - p[:, 1:]
        if self.normalize:
            beta = (dots * delta).mean(1) / np.maximum((dots**2).mean(1), 1e-30)
            dots = beta[:, None] * dots
        return ((dots - delta) ** 2).mean(axis=1)

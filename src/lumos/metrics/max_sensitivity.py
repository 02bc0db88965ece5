"""Max-sensitivity (Yeh et al. 2019): the largest relative change of the explanation under small input noise.

max over n draws d ~ U[-r, r]^D of ||phi(x + d) - phi(x)|| / ||phi(x)||, with r a fraction of each input's
value range. All B x n perturbed inputs are re-explained in one call of the same method.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..registry import register
from .base import Metric


@register("max_sensitivity", kind="metric")
@dataclass(frozen=True)
class MaxSensitivity(Metric):
    family = "robustness"
    higher_is_better = False
    bounds = (0.0, np.inf)
    modalities = ("image", "tabular")
    summary = "Largest relative change of the explanation under small uniform input noise."
    reexplains = True
    n_samples: int = 10
    radius: float = 0.02

    def compute(self, ctx):
        x = ctx.batch.x.astype(np.float64)
        n = self.n_samples
        spread = np.ptp(x.reshape(len(x), -1), axis=1).reshape((-1,) + (1,) * (x.ndim - 1))
        rng = np.random.default_rng(ctx.seed)
        noise = rng.uniform(-1, 1, size=(n,) + x.shape[1:])  # the same draws for every example
        perturbed = (x[:, None] + self.radius * spread[:, None] * noise[None]).reshape((-1,) + x.shape[1:])
        again = ctx.reexplain(inputs=perturbed.astype(x.dtype), targets=np.repeat(ctx.targets, n))
        base = np.stack([e.attributions.ravel() for e in ctx.explanations]).astype(np.float64)
        moved = np.stack([e.attributions.ravel() for e in again]).astype(np.float64).reshape(len(x), n, -1)
        change = np.linalg.norm(moved - base[:, None], axis=2).max(axis=1)
        return change / np.maximum(np.linalg.norm(base, axis=1), 1e-12)

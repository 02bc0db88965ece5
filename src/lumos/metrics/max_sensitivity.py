"""Max-sensitivity (Yeh et al. 2019): the largest relative change of the explanation under small input noise.

max over n draws d ~ U[-r, r]^D of ||phi(x + d) - phi(x)|| / ||phi(x)||, with r a fraction of each input's
value range. All B x n perturbed inputs are re-explained in one call of the same method.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import Float, Int, param
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
    plain = "How much the explanation changes when the input is nudged by tiny noise; small means stable."
    misleads = ("A method that returns the same map for everything is perfectly stable and useless; all-zero maps "
                "give huge ratios (the report flags and leaves them out).")
    reexplains = True
    n_samples: int = param(10, Int(low=1))
    radius: float = param(0.02, Float(low=0, low_open=True))

    def compute(self, ctx):
        x, n = ctx.batch.x, self.n_samples
        rng = np.random.default_rng(ctx.seed)
        noise = rng.uniform(-1, 1, size=(n,) + x.shape[1:])  # the same draws for every example
        per = max(1, (256 * 2**20) // (8 * n * int(np.prod(x.shape[1:]))))  # examples re-explained at a time
        change = []
        for lo in range(0, len(x), per):
            xs = x[lo:lo + per].astype(np.float64)
            spread = np.ptp(xs.reshape(len(xs), -1), axis=1).reshape((-1,) + (1,) * (x.ndim - 1))
            perturbed = (xs[:, None] + self.radius * spread[:, None] * noise[None]).reshape((-1,) + x.shape[1:])
            again = ctx.reexplain(inputs=perturbed.astype(x.dtype), targets=np.repeat(ctx.targets[lo:lo + per], n))
            base = np.stack([e.attributions.ravel() for e in ctx.explanations[lo:lo + per]]).astype(np.float64)
            moved = np.stack([e.attributions.ravel() for e in again]).astype(np.float64).reshape(len(xs), n, -1)
            change.append(np.linalg.norm(moved - base[:, None], axis=2).max(axis=1)
                          / np.maximum(np.linalg.norm(base, axis=1), 1e-12))
        return np.concatenate(change)

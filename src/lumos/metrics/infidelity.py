"""Infidelity (Yeh et al. 2019): E[(I . phi - (f(x) - f(x - I)))^2] over random perturbations I.

``perturbation="gaussian"`` (images and numeric tables): I ~ N(0, (noise * range)^2) per value.
``perturbation="subset"`` (text, and tables with categorical columns): I removes a random subset of features
(each with probability ``p_remove``; words deleted, columns set to the background), I . phi is the
attribution mass removed and f(x - I) the prediction without them. "auto" picks by the inputs. With ``normalize`` the attributions are first rescaled by the best factor beta (as in the paper's
code), so the score measures shape, not scale. All perturbations of all examples go through the model in one
batched stream.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..registry import register
from .base import Metric


@register("infidelity", kind="metric")
@dataclass(frozen=True)
class Infidelity(Metric):
    family = "robustness"
    higher_is_better = False
    bounds = (0.0, np.inf)
    summary = "Mean squared error between attribution-predicted and actual output changes under perturbation."
    plain = ("How far the output changes predicted by the attributions are from the model's real changes under random "
             "perturbations.")
    misleads = ("The answer depends on the perturbations chosen, and on the attributions' scale: methods in different "
                "units compare unfairly.")
    n_samples: int = 50
    perturbation: str = "auto"
    noise: float = 0.1
    p_remove: float = 0.3
    normalize: bool = True
    baseline: object = None
    background: object = None

    def compute(self, ctx):
        n, b = self.n_samples, len(ctx.targets)
        rng = np.random.default_rng(ctx.seed)
        kind = self.perturbation
        if kind == "auto":
            kind = "subset" if ctx.batch.modality == "text" or ctx.batch.x.dtype == object else "gaussian"
        if kind not in ("subset", "gaussian") or (kind == "gaussian" and ctx.batch.modality == "text"):
            raise InputError(f"infidelity perturbation must be 'auto', 'subset' or 'gaussian' (not for text); "
                             f"got {self.perturbation!r}.")
        if kind == "subset":
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

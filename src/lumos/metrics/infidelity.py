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
from ..features.removal import BACKGROUND, BASELINE
from ..params import Bool, Choice, Float, Int, param
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
    n_samples: int = param(50, Int(low=1))
    perturbation: str = param("auto", Choice("auto", "subset", "gaussian"))
    noise: float = param(0.1, Float(low=0, low_open=True))
    p_remove: float = param(0.3, Float(low=0, high=1, low_open=True))
    normalize: bool = param(True, Bool())
    baseline: object = param(None, BASELINE)
    background: object = param(None, BACKGROUND)

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
            dots, delta = self._gaussian(ctx, rng)
        if self.normalize:
            beta = (dots * delta).mean(1) / np.maximum((dots**2).mean(1), 1e-30)
            dots = beta[:, None] * dots
        return ((dots - delta) ** 2).mean(axis=1)

    def _gaussian(self, ctx, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(B, n) attribution dot products and output drops under Gaussian noise; the noisy copies of a few
        examples at a time go through the model (about 256 MB of them), so memory stays bounded."""
        x, n = ctx.batch.x, self.n_samples
        size = int(np.prod(x.shape[1:]))
        draws = rng.standard_normal((n,) + x.shape[1:])  # the same draws for every example
        per = max(1, (256 * 2**20) // (8 * (n + 1) * size))
        dots, delta = [], []
        for lo in range(0, len(x), per):
            xs = x[lo:lo + per].astype(np.float64)
            spread = np.ptp(xs.reshape(len(xs), -1), axis=1).reshape((-1,) + (1,) * (x.ndim - 1))
            pert = self.noise * spread[:, None] * draws[None]  # (b, n, ...)
            attr = np.stack([np.broadcast_to(e.attributions, x.shape[1:]) for e in ctx.explanations[lo:lo + per]])
            dots.append((pert * attr[:, None]).reshape(len(xs), n, -1).sum(axis=2))
            rows = np.concatenate([xs[:, None], xs[:, None] - pert], axis=1)  # the input itself first
            probs = ctx.model.evaluate(rows.reshape((-1,) + x.shape[1:]).astype(x.dtype))
            p = probs.reshape(len(xs), n + 1, -1)[np.arange(len(xs)), :, ctx.targets[lo:lo + per]]
            delta.append(p[:, :1] - p[:, 1:])
        return np.concatenate(dots), np.concatenate(delta)

"""GradientSHAP / expected gradients (Erion et al. 2021; Lundberg & Lee 2017).

attr = E_{b ~ background, a ~ U(0,1)} [(x - b) * grad f(b + a (x - b) + noise)], estimated with
``n_samples`` draws per example. The attributions sum, in expectation, to f(x) - E_b f(b).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..errors import InputError
from ..registry import register
from ..features.removal import BACKGROUND, BASELINE
from ..params import Float, Int, param
from .base import Attribution
from .gradient_base import GradientExplainer


@register("gradient_shap")
@dataclass(frozen=True)
class GradientShap(GradientExplainer):
    """``background``: rows/images (R, ...) to draw baselines from; None uses ``baseline`` alone
    (text: "pad" by default, as text has no background rows). ``noise``: std of Gaussian noise added to
    each path point, as a fraction of the input's range (0 = none)."""

    summary = "Expected gradients over a background set: a sampled, multi-baseline Integrated Gradients."
    plain = "Gradients averaged along paths from background examples to the input (expected gradients)."
    misleads = ("Random: values vary with the background and the samples drawn; like all gradient methods, sensitive "
                "to saturation.")
    random = True
    n_samples: int = param(50, Int(low=1))
    background: object = param(None, BACKGROUND)
    baseline: object = param(None, BASELINE)
    noise: float = param(0.0, Float(low=0, high=10))

    def attribute(self, model, batch, targets, probs, seed):
        space, t = self.space(model, batch, targets)
        x, n = space.x, self.n_samples
        if self.background is not None:
            if batch.modality == "text":
                raise InputError("gradient_shap on text takes baseline='pad'/'mask'/'zeros', not background rows.")
            bg = torch.as_tensor(np.asarray(self.background, dtype=np.float32), dtype=x.dtype, device=x.device)
            if bg.shape[1:] != x.shape[1:]:
                raise InputError(f"background rows have shape {tuple(bg.shape[1:])}; the inputs {tuple(x.shape[1:])}.")
            refs = bg[None].expand(len(x), *bg.shape)  # (B, R, ...)
        else:
            refs = self.baseline_for(space, batch, self.baseline)[:, None]  # (B, 1, ...)
        rng = np.random.default_rng(seed)
        pick = torch.as_tensor(rng.integers(0, refs.shape[1], n), device=x.device)
        alphas = torch.as_tensor(rng.random(n), dtype=x.dtype, device=x.device)
        noise_draws = torch.as_tensor(rng.standard_normal((n,) + tuple(x.shape[1:])), dtype=x.dtype,
                                      device=x.device) if self.noise > 0 and batch.modality != "text" else None
        sigma = space.noise_scale() * self.noise
        shape = (-1,) + (1,) * (x.dim() - 1)

        def points(lo: int, hi: int):
            idx = torch.arange(lo, hi, device=x.device)
            rows, k = idx // n, idx % n
            b = refs[rows, pick[k]]
            z = b + alphas[k].reshape(shape) * (x[rows] - b)
            if noise_draws is not None:
                z = z + sigma[rows].reshape(shape) * noise_draws[k]
            return z, rows, (x[rows] - b) / n

        attr = space.accumulate(len(x) * n, points, t, self.output)
        return [Attribution(a) for a in space.attributions(attr, "sum")]

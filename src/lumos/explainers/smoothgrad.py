"""SmoothGrad (Smilkov et al. 2017): gradients averaged over noisy copies of the input."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..registry import register
from ..params import Bool, Float, Int, param
from .base import Attribution
from .gradient_base import GradientExplainer, seeded_noise


@register("smoothgrad")
@dataclass(frozen=True)
class SmoothGrad(GradientExplainer):
    """``noise``: Gaussian std as a fraction of each input's value range; ``n_samples`` noisy copies.

    Attributions: the magnitude of the mean gradient (``absolute=True``) or the signed mean gradient.
    """

    summary = "Gradient averaged over noisy copies of the input; less noisy than plain saliency."
    plain = "Gradients averaged over noisy copies of the input: a smoother saliency map."
    misleads = "The noise level changes the result, and it still measures sensitivity, not contribution."
    random = True
    n_samples: int = param(50, Int(low=1))
    noise: float = param(0.15, Float(low=0, high=10))  # std in units of the input's range
    absolute: bool = param(True, Bool())

    def attribute(self, model, batch, targets, probs, seed):
        space, t = self.space(model, batch, targets)
        x, n = space.x, self.n_samples
        sigma = space.noise_scale() * self.noise  # (B,)
        noise = seeded_noise(n, x.shape[1:], seed, x)  # (n, ...) the same draws for every example

        def points(lo: int, hi: int):
            idx = torch.arange(lo, hi, device=x.device)
            rows, k = idx // n, idx % n
            scale = sigma[rows].reshape((-1,) + (1,) * (x.dim() - 1))
            return x[rows] + scale * noise[k], rows, 1.0 / n

        g = space.accumulate(len(x) * n, points, t, self.output)
        return [Attribution(a) for a in space.attributions(g, "norm" if self.absolute else "sum")]

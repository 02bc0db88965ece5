"""Integrated Gradients (Sundararajan et al. 2017) with Gauss-Legendre or Riemann rules.

attr = (x - b) * integral_0^1 grad f(b + a (x - b)) da. The path's points are built chunk by chunk, so
memory is bounded by the space's rows per backward pass whatever ``steps`` is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..errors import InputError
from ..registry import register
from ..features.removal import BASELINE
from ..params import Choice, Int, param
from .base import Attribution
from .gradient_base import GradientExplainer

RULES = ("gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid")


def quadrature(rule: str, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes in [0, 1] and weights summing to 1 for ``steps`` evaluations."""
    if rule == "gausslegendre":
        nodes, weights = np.polynomial.legendre.leggauss(steps)
        return (nodes + 1) / 2, weights / 2
    if rule == "riemann_trapezoid":
        if steps < 2:
            raise InputError("riemann_trapezoid needs steps >= 2.")
        w = np.full(steps, 1.0 / (steps - 1))
        w[[0, -1]] /= 2
        return np.linspace(0, 1, steps), w
    offset = {"riemann_left": 0.0, "riemann_right": 1.0, "riemann_middle": 0.5}.get(rule)
    if offset is None:
        raise InputError(f"unknown integration rule {rule!r}; use one of {', '.join(RULES)}.")
    return (np.arange(steps) + offset) / steps, np.full(steps, 1.0 / steps)


@register("integrated_gradients")
@dataclass(frozen=True)
class IntegratedGradients(GradientExplainer):
    """``baseline``: "zeros", "blur" or "mean" (images), "pad", "mask" or "zeros" (text), a value or an array.

    extras: ``delta`` = sum(attr) - (f(x) - f(baseline)), the completeness error of the quadrature.
    """

    summary = "Path integral of gradients from a baseline to the input; attributions sum to f(x) - f(baseline)."
    plain = ("Gradients summed along a path from a baseline (a blank input) to the input; the scores add up to the "
             "change in output.")
    misleads = "The answer depends on the baseline chosen; too few steps leave a completeness error (extras['delta'])."
    steps: int = param(50, Int(low=1))
    rule: str = param("gausslegendre", Choice(*RULES))
    baseline: object = param(None, BASELINE)

    def check_params(self) -> None:
        if self.rule == "riemann_trapezoid" and self.steps < 2:
            raise InputError(f"integrated_gradients: steps must be >= 2 for rule='riemann_trapezoid'; got "
                             f"{self.steps}.")

    def attribute(self, model, batch, targets, probs, seed):
        nodes, weights = quadrature(self.rule, self.steps)
        space, t = self.space(model, batch, targets)
        x = space.x
        b = self.baseline_for(space, batch, self.baseline)
        diff = x - b
        alphas = torch.as_tensor(nodes, dtype=x.dtype, device=x.device)
        w = torch.as_tensor(weights, dtype=x.dtype, device=x.device)
        n = self.steps
        shape = (-1,) + (1,) * (x.dim() - 1)

        def points(lo: int, hi: int):
            idx = torch.arange(lo, hi, device=x.device)
            rows, k = idx // n, idx % n
            return b[rows] + alphas[k].reshape(shape) * diff[rows], rows, w[k].reshape(shape)

        avg_grad = space.accumulate(len(x) * n, points, t, self.output)
        attr = space.attributions(avg_grad * diff, "sum")
        f_x = space.scores(x, t, self.output).cpu().numpy()
        f_b = space.scores(b, t, self.output).cpu().numpy()
        out = []
        for i, a in enumerate(attr):
            gap = float(f_x[i] - f_b[i])
            out.append(Attribution(a, {"delta": float(a.sum(dtype=np.float64)) - gap, "f_x": float(f_x[i]),
                                       "f_baseline": float(f_b[i])}))
        return out

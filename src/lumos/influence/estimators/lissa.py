"""lissa: stochastic inverse-Hessian-vector products by the LiSSA recursion (Agarwal et al. 2017, as in Koh &
Liang 2017): h_t = v + (I - (H_t + damping I) / scale) h_{t-1}, with H_t the Hessian of a random mini-batch;
(H + damping I)^-1 v ~ h_depth / scale, averaged over ``repeats`` runs."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ...errors import InputError
from ..base import Method, Preconditioner, register
from ..problem import Problem
from ...params import AnyOf, Choice, Float, Int, param


@register("lissa")
@dataclass(frozen=True)
class LiSSA(Method):
    """``depth`` recursion steps per run, ``repeats`` runs, ``hessian_batch`` rows per Hessian sample,
    ``scale``: above the largest Hessian eigenvalue ("auto": 2x a power-iteration estimate on all rows)."""

    depth: int = param(1000, Int(low=1))
    repeats: int = param(1, Int(low=1))
    hessian_batch: int = param(128, Int(low=1))
    scale: float | str = param("auto", AnyOf(Choice("auto"), Float(low=0, low_open=True)))

    def fit(self, problem: Problem) -> Preconditioner:
        if self.depth < 1 or self.repeats < 1 or self.hessian_batch < 1:
            raise InputError(f"lissa needs depth, repeats and hessian_batch >= 1; got {self.depth}, "
                             f"{self.repeats}, {self.hessian_batch}.")
        scale = self.scale
        if scale == "auto":
            scale = 2.0 * top_eigenvalue(problem, self.seed) + self.damping
        if not isinstance(scale, (int, float)) or scale <= 0:
            raise InputError(f"lissa's scale must be 'auto' or a positive number; got {self.scale!r}.")
        calls = itertools.count()  # a fresh, reproducible sample stream per call: test side, then train batches
        return lambda g: self._inverse_hvp(problem, float(scale), np.random.default_rng([self.seed, next(calls)]), g)

    def _inverse_hvp(self, problem: Problem, scale: float, rng: np.random.Generator, g: Tensor) -> Tensor:
        n = len(problem.train)
        total = torch.zeros_like(g)
        for _ in range(self.repeats):
            h = g.clone()
            for _ in range(self.depth):
                rows = problem.train.take(rng.choice(n, size=min(self.hessian_batch, n), replace=False))
                h = g + h - (problem.hvp(h, rows) + self.damping * h) / scale
            total += h / scale
        if not torch.isfinite(total).all():
            raise InputError(f"lissa diverged with scale={scale:g}: the recursion needs scale above the largest "
                             "eigenvalue of the Hessian (plus damping). Use scale='auto' (2x a power-iteration "
                             "estimate) or a larger scale.")
        return total / self.repeats


def top_eigenvalue(problem: Problem, seed: int, iterations: int = 20) -> float:
    """Largest eigenvalue magnitude of the mean training Hessian by power iteration."""
    gen = torch.Generator().manual_seed(seed)
    v = torch.randn(1, problem.n_params, generator=gen, dtype=problem.dtype)
    value = 0.0
    for _ in range(iterations):
        v = v / v.norm().clamp_min(1e-30)
        w = problem.hvp(v)
        value = float((w * v).sum())
        v = w
    return abs(value)

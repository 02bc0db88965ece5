"""The differentiable view of a batch, shared by every gradient method.

A ``GradientSpace`` holds the batch as a tensor ``x`` (B, ...) in the space gradients are taken in (pixels,
table values, or token embeddings (B, T, D) for transformers), maps any points ``z`` (N, ...) of that space to
logits, builds baselines, and folds element-wise attributions back to the Explanation's shape.
"""

from __future__ import annotations

from typing import Callable, Literal

import numpy as np
import torch

from ..errors import InputError
from ..features.masking import warn_if_huge

Output = Literal["probability", "logit"]


class GradientSpace:
    model: object  # the adapter, whose ``counts`` record the rows this space sends through the network
    x: torch.Tensor
    max_rows: int = 256  # at most this many rows per backward pass; text spaces lower it to bound memory

    def logits(self, z: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """z: (N, ...) points; rows: (N,) which example each point belongs to -> (N, K) logits."""
        raise NotImplementedError

    @property
    def chunk_key(self) -> tuple:
        """What the batch sizer remembers its choice of gradient chunk size by."""
        return ("gradient",) + tuple(self.x.shape[1:])

    def baseline(self, spec: object) -> torch.Tensor:
        """(B, ...) reference points for a named strategy, a number, or an array."""
        raise NotImplementedError

    def attributions(self, elementwise: torch.Tensor, reduce: str = "sum") -> list[np.ndarray]:
        """(B, ...) element-wise scores -> per example the Explanation's attributions.

        ``reduce`` folds the axes that are not features: "sum" (signed, e.g. IG), "norm" (L2, e.g. saliency
        of an embedding), "abs" (element-wise magnitude, images keep their channels).
        """
        raise NotImplementedError

    def noise_scale(self) -> torch.Tensor:
        """(B,) the value range of each example, the scale SmoothGrad's noise level is relative to."""
        flat = self.x.reshape(len(self.x), -1)
        return (flat.max(1).values - flat.min(1).values).clamp_min(1e-8)

    def score(self, z: torch.Tensor, rows: torch.Tensor, targets: torch.Tensor, output: Output) -> torch.Tensor:
        """(N,) the explained output: the target's probability (default) or its logit.

        Every forward pass of a gradient method goes through here and is counted in ``model.counts``."""
        logits = self.logits(z, rows)
        self.model.counts.rows += len(z)
        self.model.counts.forwards += 1
        if output == "logit":
            return logits.gather(1, targets[:, None])[:, 0]
        if output == "probability":
            return torch.softmax(logits, dim=1).gather(1, targets[:, None])[:, 0]
        raise InputError(f"output must be 'probability' or 'logit'; got {output!r}.")

    def accumulate(self, n_points: int, points: Callable[[int, int], tuple[torch.Tensor, torch.Tensor, object]],
                   targets: torch.Tensor, output: Output) -> torch.Tensor:
        """Sum over points of ``coef * gradient`` into each point's example: (B, ...) like ``x``.

        ``points(lo, hi)`` builds points lo..hi on demand as (z (N, ...), rows (N,), coef), so a path of
        many steps over many examples never sits in memory at once. Chunks are sized by the model's batch
        sizer (forward + backward has its own fastest size), at most ``max_rows``. Uses
        ``torch.autograd.grad``: no ``.grad`` of the user's parameters is touched.
        """
        total = torch.zeros_like(self.x)
        row_bytes = self.x[0].numel() * self.x.element_size()
        warn_if_huge("this gradient pass", n_points, 3.0 * n_points * row_bytes)  # forward, backward, gradient

        def run(lo: int, hi: int) -> None:
            z, rows, coef = points(lo, hi)
            z = z.detach().requires_grad_(True)
            with torch.enable_grad():
                s = self.score(z, rows, targets[rows], output)
                (g,) = torch.autograd.grad(s.sum(), z)
            total.index_add_(0, rows, (g * coef).detach())

        self.model.sizer.chunks(n_points, self.chunk_key, row_bytes, run, limit=self.max_rows)
        return total

    def gradient_at_x(self, targets: torch.Tensor, output: Output) -> torch.Tensor:
        """(B, ...) gradient of each example's score at the example itself."""
        rows = torch.arange(len(self.x), device=self.x.device)
        return self.accumulate(len(self.x), lambda lo, hi: (self.x[lo:hi], rows[lo:hi], 1.0), targets, output)

    def scores(self, z: torch.Tensor, targets: torch.Tensor, output: Output) -> torch.Tensor:
        """(B,) score of each example's target at points z (B, ...) without gradients."""
        rows = torch.arange(len(z), device=z.device)
        with torch.no_grad():
            return torch.cat([self.score(z[lo:lo + self.max_rows], rows[lo:lo + self.max_rows],
                                         targets[lo:lo + self.max_rows], output)
                              for lo in range(0, len(z), self.max_rows)])

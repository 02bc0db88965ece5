"""The tensor problem every influence method works on: a module, the chosen parameters, and labelled rows.

Per-example gradients come from ``torch.func`` (vmap of grad over a functional call) in batches of
``batch_size`` rows, so at most (batch_size x n_params) gradient values exist at once; Hessian-vector products
and the explicit Hessian are streamed over the training rows the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
from torch import Tensor, nn
from torch.func import functional_call, grad, hessian, jvp, vmap

from ..errors import ModelError


def logits_of(out: object) -> Tensor:
    """A module's output -> (B, K) logits (tuples and Hugging Face outputs unpacked)."""
    if isinstance(out, (tuple, list)):
        out = out[0]
    if hasattr(out, "logits"):
        out = out.logits
    if not isinstance(out, Tensor) or out.ndim != 2:
        raise ModelError(f"influence needs a network returning logits (B, n_classes); got "
                         f"{getattr(out, 'shape', type(out).__name__)}.")
    return out


@dataclass
class Rows:
    """Labelled model rows: ``x`` (n, ...) tensor the module takes (a text model: n token-id lists), ``y`` (n,)
    int64 class indices."""

    x: Tensor
    y: Tensor

    def __len__(self) -> int:
        return len(self.y)

    def take(self, idx: np.ndarray | slice) -> "Rows":
        if isinstance(self.x, list) and not isinstance(idx, slice):  # token-id lists of a text model
            return Rows([self.x[i] for i in idx], self.y[idx])
        return Rows(self.x[idx], self.y[idx])


class Problem:
    """Cross-entropy of ``module`` on rows, as a function of the flattened chosen parameters (p,).

    ``state``: every parameter and buffer the module is evaluated at (detached); ``names``: the chosen ones.
    """

    def __init__(self, module: nn.Module, state: dict[str, Tensor], names: list[str], train: Rows, test: Rows,
                 batch_size: int | None = None):
        self.module, self.names, self.train, self.test = module, names, train, test
        self.state = {k: v.detach() for k, v in state.items()}
        self.shapes = [self.state[n].shape for n in names]
        self.sizes = [int(np.prod(s)) for s in self.shapes]
        self.flat = torch.cat([self.state[n].reshape(-1) for n in names])
        self.n_params = int(self.flat.numel())
        self.batch_size = batch_size or max(1, min(1024, (1 << 24) // max(self.n_params, 1)))

    @property
    def dtype(self) -> torch.dtype:
        return self.flat.dtype

    def unflatten(self, flat: Tensor) -> dict[str, Tensor]:
        return {n: part.view(s) for n, part, s in zip(self.names, flat.split(self.sizes), self.shapes)}

    def losses(self, flat: Tensor, x: Tensor, y: Tensor) -> Tensor:
        """(B,) per-example cross-entropy with the chosen parameters set to ``flat``."""
        out = functional_call(self.module, {**self.state, **self.unflatten(flat)}, (x,))
        # log-softmax and gather rather than cross_entropy, which vmap runs through a slow decomposition
        return -torch.log_softmax(logits_of(out), 1).gather(1, y[:, None])[:, 0]

    def _one_loss(self, flat: Tensor, x: Tensor, y: Tensor) -> Tensor:
        return self.losses(flat, x[None], y[None])[0]

    def batches(self, rows: Rows, batch_size: int | None = None) -> Iterator[tuple[int, int, Rows]]:
        step = batch_size or self.batch_size
        for lo in range(0, len(rows), step):
            hi = min(lo + step, len(rows))
            yield lo, hi, rows.take(slice(lo, hi))

    def grads(self, rows: Rows) -> Iterator[tuple[int, int, Tensor]]:
        """(lo, hi, G) per batch: G (hi - lo, p) per-example loss gradients of rows[lo:hi]."""
        closed_form = isinstance(self.module, nn.Linear) and set(self.names) <= {"weight", "bias"}
        per_example = vmap(grad(self._one_loss), in_dims=(None, 0, 0))
        for lo, hi, b in self.batches(rows):
            g = self._linear_grads(b) if closed_form else per_example(self.flat, b.x, b.y)
            yield lo, hi, g.detach()

    def _linear_grads(self, b: Rows) -> Tensor:
        """A Linear layer's per-example gradients in closed form: (softmax - onehot) x [input, 1]."""
        w, bias = self.state["weight"], self.state.get("bias")
        logits = b.x @ w.T + (bias if bias is not None else 0)
        delta = torch.softmax(logits, 1) - nn.functional.one_hot(b.y, logits.shape[1]).to(logits.dtype)
        parts = {"weight": (delta[:, :, None] * b.x[:, None, :]).reshape(len(b), -1), "bias": delta}
        return torch.cat([parts[n] for n in self.names], 1)

    def all_grads(self, rows: Rows) -> Tensor:
        """(n, p) gradients of every row; only for the test side or small sets."""
        return torch.cat([g for _, _, g in self.grads(rows)]) if len(rows) else self.flat.new_zeros(0, self.n_params)

    def hvp(self, vectors: Tensor, rows: Rows | None = None) -> Tensor:
        """(k, p) -> (k, p): products with the Hessian of the mean loss over ``rows`` (default: all train)."""
        rows = self.train if rows is None else rows
        out = torch.zeros_like(vectors)
        step = max(32, (1 << 24) // max(len(vectors) * self.n_params, 1))  # bounds k x rows x p values
        for _, _, b in self.batches(rows, step):
            def batch_grad(flat: Tensor, b: Rows = b) -> Tensor:
                return grad(lambda f: self.losses(f, b.x, b.y).sum())(flat)

            one = lambda v: jvp(batch_grad, (self.flat,), (v,))[1]  # noqa: E731
            out += vmap(one)(vectors).detach()
        return out / len(rows)

    def hessian(self) -> Tensor:
        """(p, p) Hessian of the mean training loss, summed over batches."""
        total = torch.zeros(self.n_params, self.n_params, dtype=self.dtype)
        rows = max(8, min(self.batch_size, (1 << 24) // (self.n_params * self.n_params)))
        for _, _, b in self.batches(self.train, rows):
            total += hessian(lambda f, b=b: self.losses(f, b.x, b.y).sum())(self.flat).detach()
        return total / len(self.train)

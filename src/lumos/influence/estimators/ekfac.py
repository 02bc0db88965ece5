"""ekfac: eigenvalue-corrected Kronecker-factored curvature for Linear layers (George et al. 2018; as used for
influence by Grosse et al. 2023).

Per Linear layer, the Fisher (= the Gauss-Newton Hessian for cross-entropy) is approximated in the eigenbasis of
K-FAC's factors A = E[a a^T] (inputs, with a 1 appended for the bias) and S = E[g g^T] (gradients at the
layer's output), with its diagonal in that basis measured from per-example gradients:
Lambda[o, i] = E[(Q_S^T g)_o^2 (Q_A^T a)_i^2]. Expectations over labels are taken exactly under the model's
own predictive distribution (every class weighted by its probability). Layers are independent blocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import torch
from torch import Tensor, nn
from torch.func import functional_call

from ...errors import UnsupportedError
from ..base import Method, Preconditioner, register
from ..problem import Problem, logits_of
from ..text_grads import LinearHookProblem


@dataclass
class _Layer:
    """One Linear layer: where its weight (and bias) sit in the flat parameter vector, and its factors."""

    module: nn.Linear
    weight: slice
    bias: slice | None
    q_in: Tensor | None = None
    q_out: Tensor | None = None
    values: Tensor | None = None


def _layers(problem: Problem) -> list[_Layer]:
    offsets, at = {}, 0
    for name, size in zip(problem.names, problem.sizes):
        offsets[name] = slice(at, at + size)
        at += size
    layers, covered = [], set()
    for prefix, m in problem.module.named_modules():
        if not isinstance(m, nn.Linear):
            continue
        w, b = (f"{prefix}.{p}" if prefix else p for p in ("weight", "bias"))
        if w in offsets:
            layers.append(_Layer(m, offsets[w], offsets.get(b)))
            covered |= {w, b}
    others = [n for n in problem.names if n not in covered]
    if others:
        raise UnsupportedError(f"ekfac covers Linear layers' weights and biases; the chosen parameters include "
                               f"{others[:5]}. Choose Linear modules with params=[names] or 'last_layer'.")
    return layers


def _augmented(a: Tensor, layer: _Layer) -> Tensor:
    return torch.cat([a, torch.ones_like(a[:, :1])], 1) if layer.bias is not None else a


def _batch_statistics(problem: Problem, layers: list[_Layer]) -> Iterator[tuple[list[Tensor], list[tuple]]]:
    """Per training batch: each layer's inputs (B, in [+1]) and, per class c, (p_c (B, 1), each layer's output
    gradients (B, out) of the loss of label c): the label expectation taken exactly."""
    for _, _, b in problem.batches(problem.train):
        seen: dict[int, tuple[Tensor, Tensor]] = {}

        def keep(i: int):
            def hook(module: nn.Module, args: tuple, out: Tensor) -> None:
                seen[i] = (args[0].detach(), out)
            return hook

        hooks = [layer.module.register_forward_hook(keep(i)) for i, layer in enumerate(layers)]
        try:
            flat = problem.flat.clone().requires_grad_(True)
            logits = logits_of(functional_call(problem.module, {**problem.state, **problem.unflatten(flat)}, (b.x,)))
        finally:
            for h in hooks:
                h.remove()
        if any(seen[i][0].ndim != 2 for i in seen):
            raise UnsupportedError("ekfac takes Linear layers applied to (batch, features) inputs; a chosen "
                                   "layer sees sequences or images. Use method='arnoldi' or 'lissa'.")
        a = [_augmented(seen[i][0], layer).double() for i, layer in enumerate(layers)]
        probs = torch.softmax(logits.detach(), 1).double()
        per_class = []
        for c in range(logits.shape[1]):
            loss = nn.functional.cross_entropy(logits, torch.full((len(b),), c), reduction="sum")
            grads = torch.autograd.grad(loss, [seen[i][1] for i in range(len(layers))],
                                        retain_graph=c < logits.shape[1] - 1)
            per_class.append((probs[:, c:c + 1], [g.detach().double() for g in grads]))
        yield a, per_class


@register("ekfac")
@dataclass(frozen=True)
class EKFAC(Method):
    """``damping`` is added to every corrected eigenvalue."""

    def fit(self, problem: Problem) -> Preconditioner:
        if isinstance(problem, LinearHookProblem):
            raise UnsupportedError("ekfac covers the output layer of text models (params='last_layer'): inner "
                                   "layers see token sequences. Use method='arnoldi' or 'lissa' for them.")
        layers = _layers(problem)
        n = len(problem.train)
        inputs = [0.0] * len(layers)
        outputs = [0.0] * len(layers)
        for a, per_class in _batch_statistics(problem, layers):
            for i in range(len(layers)):
                inputs[i] = inputs[i] + a[i].T @ a[i]
                outputs[i] = outputs[i] + sum((g[i] * w).T @ g[i] for w, g in per_class)
        for layer, aa, gg in zip(layers, inputs, outputs):
            layer.q_in = torch.linalg.eigh(aa / n)[1]
            layer.q_out = torch.linalg.eigh(gg / n)[1]
        values = [0.0] * len(layers)
        for a, per_class in _batch_statistics(problem, layers):
            for i, layer in enumerate(layers):
                rotated_in = (a[i] @ layer.q_in) ** 2
                values[i] = values[i] + sum(((g[i] @ layer.q_out) ** 2 * w).T @ rotated_in for w, g in per_class)
        for layer, v in zip(layers, values):
            layer.values = v / n
        return lambda g: self._precondition(layers, g)

    def _precondition(self, layers: list[_Layer], g: Tensor) -> Tensor:
        out = torch.zeros_like(g, dtype=torch.float64)
        for layer in layers:
            m = layer.module
            block = g[:, layer.weight].double().reshape(len(g), m.out_features, m.in_features)
            if layer.bias is not None:
                block = torch.cat([block, g[:, layer.bias].double()[:, :, None]], 2)
            rotated = layer.q_out.T @ block @ layer.q_in
            back = layer.q_out @ (rotated / (layer.values + self.damping)) @ layer.q_in.T
            out[:, layer.weight] = back[:, :, :m.in_features].reshape(len(g), -1)
            if layer.bias is not None:
                out[:, layer.bias] = back[:, :, -1]
        return out

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

import torch
from torch import Tensor, nn
from torch.func import functional_call

from ..errors import UnsupportedError
from .base import Method, Preconditioner, register
from .problem import Problem, logits_of


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


@register("ekfac")
@dataclass(frozen=True)
class EKFAC(Method):
    """``damping`` is added to every corrected eigenvalue."""

    def _pass(self, problem: Problem, layers: list[_Layer], second: bool) -> list[list[Tensor]]:
        """Stream the training rows once: factor sums (first pass) or corrected-eigenvalue sums (second)."""
        sums: list[list[Tensor]] = [[] for _ in layers]
        for _, _, b in problem.batches(problem.train):
            inputs: dict[int, Tensor] = {}
            outputs: dict[int, Tensor] = {}

            def keep(i: int):
                def hook(module: nn.Module, args: tuple, out: Tensor) -> None:
                    inputs[i], outputs[i] = args[0].detach(), out
                return hook

            hooks = [layer.module.register_forward_hook(keep(i)) for i, layer in enumerate(layers)]
            try:
                flat = problem.flat.clone().requires_grad_(True)
                logits = logits_of(functional_call(problem.module, {**problem.state, **problem.unflatten(flat)},
                                                   (b.x,)))
            finally:
                for h in hooks:
                    h.remove()
            if any(inputs[i].ndim != 2 for i in inputs):
                raise UnsupportedError("ekfac takes Linear layers applied to (batch, features) inputs; a chosen "
                                       "layer sees sequences or images. Use method='arnoldi' or 'lissa'.")
            probs = torch.softmax(logits.detach(), 1)
            outs = [outputs[i] for i in range(len(layers))]
            for c in range(logits.shape[1]):
                target = torch.full((len(b),), c, dtype=torch.long)
                loss = nn.functional.cross_entropy(logits, target, reduction="sum")
                grads = torch.autograd.grad(loss, outs, retain_graph=c < logits.shape[1] - 1)
                w = probs[:, c:c + 1]
                for i, layer in enumerate(layers):
                    a, g = _augmented(inputs[i], layer).double(), grads[i].detach().double()
                    if second:
                        term = ((g @ layer.q_out) ** 2 * w).T @ (a @ layer.q_in) ** 2
                        sums[i] = [sums[i][0] + term] if sums[i] else [term]
                    else:
                        ga = (g * w).T @ g
                        aa = a.T @ a * (c == 0)  # inputs do not depend on the label: count them once
                        sums[i] = [sums[i][0] + aa, sums[i][1] + ga] if sums[i] else [aa, ga]
        return sums

    def fit(self, problem: Problem) -> Preconditioner:
        layers = _layers(problem)
        n = len(problem.train)
        for layer, (aa, gg) in zip(layers, self._pass(problem, layers, second=False)):
            layer.q_in = torch.linalg.eigh(aa / n)[1]
            layer.q_out = torch.linalg.eigh(gg / n)[1]
        for layer, (values,) in zip(layers, self._pass(problem, layers, second=True)):
            layer.values = values / n
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

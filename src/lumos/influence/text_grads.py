"""Per-example gradients of chosen Linear layers inside a text model, from one ordinary backward pass.

``vmap`` cannot trace the Hugging Face forward (data-dependent control flow on the attention mask), so for
Linear layers the per-example gradients are assembled from what hooks see: the layer's input a (B, T, in) and
the loss gradient at its output g (B, T, out) give dW_b = sum_t g_bt a_bt^T and db_b = sum_t g_bt. Padding
positions carry no gradient (they are masked out of attention), so each example's sum is its own.
Gradient-only methods (grad_dot, grad_cos, tracin) run on this; curvature methods need ``Problem``.
"""

from __future__ import annotations

from typing import Iterator

import torch
from torch import Tensor, nn
from torch.func import functional_call

from ..errors import UnsupportedError
from ..models.huggingface import HuggingFaceTextModel
from .problem import Rows, logits_of


def linear_owners(network: nn.Module, names: list[str]) -> dict[str, nn.Linear] | None:
    """Module name -> Linear for every chosen parameter when all are Linear weights or biases, else None."""
    modules = dict(network.named_modules())
    owners: dict[str, nn.Linear] = {}
    for name in names:
        owner, _, leaf = name.rpartition(".")
        module = modules.get(owner)
        if not isinstance(module, nn.Linear) or leaf not in ("weight", "bias"):
            return None
        owners[owner] = module
    return owners


class LinearHookProblem:
    """The gradient side of ``Problem`` for a text model and chosen Linear layers (rows: token-id lists)."""

    def __init__(self, model: HuggingFaceTextModel, network: nn.Module, state: dict[str, Tensor], names: list[str],
                 train: Rows, test: Rows, batch_size: int | None = None):
        self.model, self.network, self.state, self.names = model, network, state, names
        self.train, self.test = train, test
        self.owners = linear_owners(network, names)
        assert self.owners is not None
        self.n_params = sum(int(state[n].numel()) for n in names)
        self.batch_size = batch_size or max(1, min(64, (1 << 24) // max(self.n_params, 1)))

    def grads(self, rows: Rows) -> Iterator[tuple[int, int, Tensor]]:
        """(lo, hi, G) per batch of rows in their order: G (hi - lo, p) per-example loss gradients."""
        for lo in range(0, len(rows), self.batch_size):
            hi = min(lo + self.batch_size, len(rows))
            yield lo, hi, self._batch_grads(rows.x[lo:hi], rows.y[lo:hi])

    def all_grads(self, rows: Rows) -> Tensor:
        return torch.cat([g for _, _, g in self.grads(rows)])

    def _batch_grads(self, ids: list, y: Tensor) -> Tensor:
        seen: dict[str, tuple[Tensor, Tensor]] = {}

        def keep(name: str):
            def hook(module: nn.Module, args: tuple, out: Tensor) -> None:
                seen[name] = (args[0].detach(), out)
            return hook

        hooks = [m.register_forward_hook(keep(name)) for name, m in self.owners.items()]  # type: ignore[union-attr]
        try:
            state = {k: (v.requires_grad_(True) if k in self.names else v)
                     for k, v in ((k, v.detach()) for k, v in self.state.items())}
            input_ids, mask = self.model._pad(ids)
            logits = logits_of(functional_call(self.network, state, (),
                                               {"input_ids": input_ids, "attention_mask": mask}))
        finally:
            for h in hooks:
                h.remove()
        loss = nn.functional.cross_entropy(logits, y, reduction="sum")
        order = list(seen)
        outs = torch.autograd.grad(loss, [seen[name][1] for name in order])
        per_layer = {name: (seen[name][0], g.detach()) for name, g in zip(order, outs)}
        parts = []
        for name in self.names:
            owner, _, leaf = name.rpartition(".")
            a, g = per_layer[owner]
            if a.ndim == 2:  # a layer applied once per example (e.g. the pooler)
                a, g = a[:, None], g[:, None]
            if leaf == "weight":
                parts.append(torch.einsum("bto,bti->boi", g, a).reshape(len(ids), -1))
            else:
                parts.append(g.sum(1))
        return torch.cat(parts, 1)

    def _unsupported(self, *args: object) -> None:
        raise UnsupportedError("for text models, influence over layers other than the output layer runs with "
                               "method='grad_dot', 'grad_cos' or 'tracin' (no Hessian); use params='last_layer' "
                               "for exact, lissa, arnoldi or ekfac.")

    hvp = hessian = batches = _unsupported


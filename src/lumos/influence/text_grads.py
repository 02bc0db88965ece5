"""Per-example gradients of chosen Linear layers inside a text model, from one ordinary backward pass.

``vmap`` cannot trace the Hugging Face forward (data-dependent control flow on the attention mask), so for
Linear layers the per-example gradients are assembled from what hooks see: the layer's input a (B, T, in) and
the loss gradient at its output g (B, T, out) give dW_b = sum_t g_bt a_bt^T and db_b = sum_t g_bt. Padding
positions carry no gradient (they are masked out of attention), so each example's sum is its own.
Hessian-vector products (exact, lissa, arnoldi) differentiate that gradient once more (double backward, with
attention computed by its plain math kernel, the one that is twice differentiable).
"""

from __future__ import annotations

from typing import Iterator

import torch
from torch import Tensor, nn
from torch.func import functional_call
from torch.nn.attention import SDPBackend, sdpa_kernel

from ..models.huggingface import HuggingFaceTextModel
from .problem import Rows, logits_of

VECTOR_ROWS = 2048  # Hessian-vector products: (vectors x text rows) differentiated in one batched pass


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

    @property
    def dtype(self) -> torch.dtype:
        return self.state[self.names[0]].dtype

    def _loss(self, state: dict[str, Tensor], ids: list, y: Tensor) -> Tensor:
        """Summed cross-entropy of the rows ``ids`` (token-id lists) with the network at ``state``."""
        input_ids, mask = self.model.tokenize(ids)
        logits = logits_of(functional_call(self.network, state, (), {"input_ids": input_ids, "attention_mask": mask}))
        return nn.functional.cross_entropy(logits, y, reduction="sum")

    def hvp(self, vectors: Tensor, rows: Rows | None = None) -> Tensor:
        """(k, p) -> (k, p): products with the Hessian of the mean loss over ``rows`` (default: all train)."""
        rows = self.train if rows is None else rows
        out = torch.zeros(vectors.shape, dtype=torch.float64)
        for lo in range(0, len(rows), self.batch_size):
            chosen = [self.state[n].detach().clone().requires_grad_(True) for n in self.names]
            state = {**self.state, **dict(zip(self.names, chosen))}
            with sdpa_kernel(SDPBackend.MATH):
                loss = self._loss(state, rows.x[lo:lo + self.batch_size], rows.y[lo:lo + self.batch_size])
                flat = torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, chosen, create_graph=True)])
                # products in batched backward passes (H is symmetric, so v^T H = (H v)^T), at most
                # VECTOR_ROWS (vectors x rows) at a time: each vector holds its own copy of the activations
                step = max(1, VECTOR_ROWS // len(rows.y[lo:lo + self.batch_size]))
                for i in range(0, len(vectors), step):
                    chunk = vectors[i:i + step].to(flat.dtype)
                    hv = torch.autograd.grad(flat, chosen, grad_outputs=chunk, is_grads_batched=True,
                                             retain_graph=i + step < len(vectors))
                    out[i:i + step] += torch.cat([h.reshape(len(chunk), -1) for h in hv], 1).double()
        return (out / len(rows)).to(vectors.dtype)

    def hessian(self) -> Tensor:
        """(p, p) Hessian of the mean training loss, one Hessian-vector product per column."""
        eye = torch.eye(self.n_params, dtype=torch.float64)
        return torch.cat([self.hvp(eye[i:i + 256]) for i in range(0, self.n_params, 256)])

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
            loss = self._loss(state, ids, y)
        finally:
            for h in hooks:
                h.remove()
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



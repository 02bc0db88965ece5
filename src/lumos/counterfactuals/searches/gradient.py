"""Gradient-based search for differentiable models (DiCE's loss): n counterfactuals optimised together with
Adam on a hinge loss towards the desired class, MAD-scaled proximity to the query, and a diversity term, the
determinant of the kernel matrix 1 / (1 + distance) between them (a DPP).

As in Wachter et al., the class term's weight doubles for each row still invalid at a check, so flat models
are not stuck where the proximity pull balances a weak gradient. Numeric features move as x + u * (training
range), clamped to their bounds (the loss still counts MADs); categorical features are relaxed to a softmax
over their allowed values and decoded by argmax. Every ``check_every`` steps the decoded rows are scored with the
real model (one call) and pooled; the search stops once all n decode to valid rows.

Differentiable models: a torch module on all-numeric features (``lumos.wrap(module)``), or a zoo table model
whose head is a torch MLP (its preprocessing is written here in torch: standardised numbers, one-hot categories).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, ClassVar

import numpy as np
import torch
from torch.func import functional_call

from ...errors import UnsupportedError
from ..query import Query
from ...registry import register
from ..space import FeatureSpace

Encoder = Callable[[torch.Tensor, list[torch.Tensor]], torch.Tensor]


def _frozen_call(module: torch.nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    """The module as a function of its input only: parameters detached, so no gradient reaches them."""
    params = {k: v.detach() for k, v in module.named_parameters()}
    buffers = {k: v.detach() for k, v in module.named_buffers()}
    return lambda inp: functional_call(module, {**params, **buffers}, (inp,))


def differentiable_logits(model, space: FeatureSpace) -> Encoder:
    """(numeric values (B, F_num) in the user's units, one (B, K_j) probability vector per categorical feature)
    -> (B, C) logits; UnsupportedError for models without gradients."""
    numeric = [f for j, f in enumerate(space.features) if not space.categorical[j]]
    categorical = [f for j, f in enumerate(space.features) if space.categorical[j]]
    if model.can("logits", "network") and not categorical:
        net = _frozen_call(model.network)
        return lambda num, cats: net(num.to(model.dtype))
    head, pre = getattr(model, "head", None), getattr(model, "preprocessor", None)  # a zoo table model: its
    if isinstance(getattr(head, "module", None), torch.nn.Module) and pre is not None:  # encoding written out below
        net = _frozen_call(head.module)
        order = [numeric.index(f) for f in pre.numeric]
        center, scale = (torch.as_tensor(a, dtype=torch.float32) for a in (pre.center, pre.scale))
        perms = [[list(space.categories[c]).index(v) if v in space.categories[c] else -1 for v in pre.categories[c]]
                 for c in pre.categorical]

        def logits(num: torch.Tensor, cats: list[torch.Tensor]) -> torch.Tensor:
            parts = [(num[:, order].float() - center) / scale]
            for c, perm in zip(pre.categorical, perms):
                probs = cats[categorical.index(c)]
                zeros = torch.zeros(len(probs), 1)
                parts.append(torch.cat([probs, zeros], dim=1)[:, perm].float())
            return net(torch.cat(parts, dim=1))

        return logits
    raise UnsupportedError(f"method='gradient' needs a differentiable model: a torch module on numeric features or a "
                           f"zoo table model with an MLP head; got {type(model).__name__}. Use method='genetic', "
                           "'random' or 'kdtree', which work with any model.")


@register("gradient", kind="counterfactual")
@dataclass(frozen=True)
class GradientSearch:
    """``steps``: the most Adam steps; ``lr``: step size; ``proximity_weight``, ``diversity_weight``: DiCE's
    loss weights; ``check_every``: steps between scoring the decoded rows with the real model."""

    summary: ClassVar[str] = "DiCE's loss with a DPP diversity term, by gradient (torch models, zoo MLP heads)."
    modalities: ClassVar[tuple[str, ...]] = ("tabular",)

    steps: int = 300
    lr: float = 0.05
    proximity_weight: float = 0.5
    diversity_weight: float = 1.0
    check_every: int = 20

    def search(self, query: Query, rng: np.random.Generator) -> None:
        predictor, space, bounds = query.predictor, query.space, query.bounds
        if predictor.regression or query.target.index is None:
            raise UnsupportedError("method='gradient' works for classifiers; for a regressor use 'genetic'.")
        logits_of = differentiable_logits(predictor.model, space)
        num_idx = np.flatnonzero(~space.categorical)
        cat_idx = np.flatnonzero(space.categorical)
        n, x = query.n, query.x
        span = np.maximum(space.high[num_idx] - space.low[num_idx], 1e-12)
        scale = torch.as_tensor(span, dtype=torch.float32)  # u = change / training range, so Adam's steps
        cost = torch.as_tensor(span / space.mad[num_idx], dtype=torch.float32)  # cover any range; cost: in MADs
        x_num = torch.as_tensor(x[num_idx], dtype=torch.float32)
        low = (torch.as_tensor(bounds.low[num_idx], dtype=torch.float32) - x_num) / scale
        high = (torch.as_tensor(bounds.high[num_idx], dtype=torch.float32) - x_num) / scale
        free = torch.as_tensor(bounds.mutable[num_idx])
        u = torch.as_tensor(rng.normal(0, 0.1, size=(n, len(num_idx))), dtype=torch.float32)
        u = torch.clamp(torch.where(free, u, torch.zeros_like(u)), low, high).requires_grad_(True)
        masks, cat_logits, x_onehots = [], [], []
        for j in cat_idx:
            k = len(space.categories[space.features[j]])
            mask = torch.full((k,), -1e9)
            mask[torch.as_tensor(bounds.allowed[j])] = 0.0
            onehot = torch.nn.functional.one_hot(torch.tensor(int(x[j])), k).float()
            init = 2.0 * onehot + torch.as_tensor(rng.normal(0, 1.0, size=(n, k)), dtype=torch.float32)
            masks.append(mask)
            x_onehots.append(onehot)
            cat_logits.append(init.requires_grad_(True))
        optimiser = torch.optim.Adam([u, *cat_logits], lr=self.lr)
        index = query.target.index
        weight = torch.ones(n)  # per-row weight of the class term, doubled at each check a row decodes invalid
        for step in range(1, self.steps + 1):
            probs = [torch.softmax(c + m, dim=1) for c, m in zip(cat_logits, masks)]
            out = logits_of(x_num + u * scale, probs)
            others = torch.cat([out[:, :index], out[:, index + 1:]], dim=1).max(dim=1).values
            yloss = (weight * torch.relu(0.5 - (out[:, index] - others))).mean()
            proximity = self._distance_to_x(u * cost, probs, x_onehots).mean()
            loss = yloss + self.proximity_weight * proximity - self.diversity_weight * self._dpp(u * cost, probs)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            with torch.no_grad():
                u.copy_(torch.clamp(torch.where(free, u, torch.zeros_like(u)), low, high))
            if step % self.check_every == 0 or step == self.steps:
                z = self._decode(query, u, cat_logits, masks, num_idx, cat_idx)
                margins = query.score(z)
                if len(margins) < len(z) or np.all(margins > 0):
                    break
                weight = torch.where(torch.as_tensor(margins > 0), weight, 2 * weight)

    @staticmethod
    def _distance_to_x(u: torch.Tensor, probs: list[torch.Tensor], x_onehots: list[torch.Tensor]) -> torch.Tensor:
        d = u.abs().mean(dim=1) if u.shape[1] else torch.zeros(len(u))
        if probs:
            d = d + torch.stack([1 - (p * o).sum(dim=1) for p, o in zip(probs, x_onehots)], dim=1).mean(dim=1)
        return d

    @staticmethod
    def _dpp(u: torch.Tensor, probs: list[torch.Tensor]) -> torch.Tensor:
        """det of K_ij = 1 / (1 + d(cf_i, cf_j)) over the n relaxed counterfactuals."""
        if len(u) < 2:
            return torch.zeros(())
        d = (u[:, None, :] - u[None, :, :]).abs().mean(dim=2) if u.shape[1] else 0.0
        if probs:
            d = d + torch.stack([0.5 * (p[:, None, :] - p[None, :, :]).abs().sum(dim=2) for p in probs]).mean(dim=0)
        return torch.det(1.0 / (1.0 + d))

    @staticmethod
    def _decode(query: Query, u: torch.Tensor, cat_logits: list[torch.Tensor], masks: list[torch.Tensor],
                num_idx: np.ndarray, cat_idx: np.ndarray) -> np.ndarray:
        z = np.repeat(query.x[None], len(u), axis=0)
        with torch.no_grad():
            span = query.space.high[num_idx] - query.space.low[num_idx]
            z[:, num_idx] = query.x[num_idx] + u.double().numpy() * span
            for j, c, m in zip(cat_idx, cat_logits, masks):
                z[:, j] = torch.argmax(c + m, dim=1).numpy()
        return query.bounds.project(z)

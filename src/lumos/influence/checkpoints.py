"""``train_with_checkpoints``: train a torch classifier with SGD and keep a state_dict per epoch, for TracIn."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import InputError


def train_with_checkpoints(module: nn.Module, x: Any, y: Any, *, epochs: int = 10, lr: float = 0.1,
                           batch_size: int = 32, weight_decay: float = 0.0, momentum: float = 0.0, seed: int = 0
                           ) -> tuple[list[dict[str, torch.Tensor]], list[float]]:
    """Train ``module`` (x (N, ...) -> logits) in place with cross-entropy and SGD; shuffling from ``seed``.

    Returns (checkpoints, learning_rates): a copy of the state_dict after every epoch and the learning rate
    used in that epoch, ready for ``lumos.influence.explain(..., method="tracin", checkpoints=..., learning_rates=...)``.
    The module is left in eval mode.
    """
    if epochs < 1:
        raise InputError(f"epochs must be >= 1; got {epochs}.")
    dtype = next(module.parameters()).dtype
    xt = torch.as_tensor(np.asarray(x, dtype=np.float64), dtype=dtype)
    yt = torch.as_tensor(np.asarray(y), dtype=torch.long)
    if len(xt) != len(yt):
        raise InputError(f"x has {len(xt)} rows and y {len(yt)} labels; pass one label per row.")
    optimiser = torch.optim.SGD(module.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)
    checkpoints, rates = [], []
    module.train()
    for _ in range(epochs):
        for idx in torch.randperm(len(xt), generator=gen).split(batch_size):
            loss = nn.functional.cross_entropy(module(xt[idx]), yt[idx])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
        checkpoints.append(copy.deepcopy(module.state_dict()))
        rates.append(lr)
    module.eval()
    return checkpoints, rates

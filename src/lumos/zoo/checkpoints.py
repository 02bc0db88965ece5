"""TracIn checkpoints recorded while a zoo network trains, cached beside its weights (``ckpt.<k>.<name>``).

A model trained with them carries ``model.training_checkpoints``, which ``lumos.influence.explain(..., method="tracin")``
uses when no checkpoints are passed. Recording copies tensors only, so the trained weights (and the cache key)
are the same as without it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

PREFIX = "ckpt."


@dataclass(frozen=True)
class TrainingCheckpoints:
    """``states``: full state_dicts of the network, in training order; ``learning_rates``: the weight of each
    (the mean learning rate of the epochs it stands for, times their number)."""

    states: list[dict[str, torch.Tensor]]
    learning_rates: list[float]


class CheckpointRecorder:
    """``fit_classifier``'s ``on_epoch`` callback: keeps at most ``keep`` states evenly spaced over ``epochs``
    (every ceil(epochs / keep)-th epoch, and the last one); each stands for the epochs since the one before."""

    def __init__(self, epochs: int, keep: int = 10):
        self.epochs, self.every = epochs, max(1, math.ceil(epochs / keep))
        self.states: list[dict[str, np.ndarray]] = []
        self.learning_rates: list[float] = []
        self._seen, self._pending = 0, 0.0

    def __call__(self, module: nn.Module, rate: float) -> None:
        self._seen += 1
        self._pending += rate
        if self._seen % self.every == 0 or self._seen == self.epochs:
            self.states.append({k: v.detach().cpu().numpy().copy() for k, v in module.state_dict().items()})
            self.learning_rates.append(self._pending)
            self._pending = 0.0

    def arrays(self) -> dict[str, np.ndarray]:
        return {f"{PREFIX}{i}.{k}": v for i, state in enumerate(self.states) for k, v in state.items()}

    def state(self) -> dict[str, Any]:
        return {"learning_rates": self.learning_rates}


def restore(arrays: dict[str, np.ndarray], state: dict[str, Any] | None) -> TrainingCheckpoints | None:
    """The checkpoints stored in a cached artifact, or None when it was trained without recording them."""
    if not state or "learning_rates" not in state:
        return None
    states: list[dict[str, torch.Tensor]] = [{} for _ in state["learning_rates"]]
    for key, value in arrays.items():
        found = re.match(rf"{re.escape(PREFIX)}(\d+)\.(.+)", key)
        if found:
            states[int(found.group(1))][found.group(2)] = torch.from_numpy(np.array(value))
    return TrainingCheckpoints(states, [float(r) for r in state["learning_rates"]])


def weights_only(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays without the recorded checkpoints."""
    return {k: v for k, v in arrays.items() if not k.startswith(PREFIX)}

"""TracIn checkpoints recorded while a zoo network trains, cached beside its weights (``ckpt.<k>.<name>``).

A model trained with them carries ``model.training_checkpoints``, which ``lumos.influence.explain(..., method="tracin")``
uses when no checkpoints are passed. Recording copies tensors only, so the trained weights (and the cache key)
are the same as without it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable

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
    (every ceil(epochs / keep)-th epoch, and the last one); each stands for the epochs since the one before.

    ``snapshot(module)``: the arrays to keep (default: the module's whole state_dict); a network trained in
    part (a frozen backbone) keeps only its trained entries, under the full network's names, and ``restore``
    fills in the rest from the final weights."""

    def __init__(self, epochs: int, keep: int = 10,
                 snapshot: Callable[[nn.Module], dict[str, torch.Tensor]] | None = None):
        self.epochs, self.every = epochs, max(1, math.ceil(epochs / max(keep, 1)))
        self.enabled = keep > 0
        self.snapshot = snapshot or (lambda module: module.state_dict())
        self.states: list[dict[str, np.ndarray]] = []
        self.learning_rates: list[float] = []
        self.epochs_of: list[int] = []  # the (1-based) epoch after which each state was taken
        self._rates: list[float] = []

    def __call__(self, module: nn.Module, rate: float) -> None:
        self._rates.append(rate)
        seen = len(self._rates)
        if self.enabled and (seen % self.every == 0 or seen == self.epochs):
            self._take(module)

    def _take(self, module: nn.Module) -> None:
        since = self.epochs_of[-1] if self.epochs_of else 0
        self.states.append({k: v.detach().cpu().numpy().copy() for k, v in self.snapshot(module).items()})
        self.learning_rates.append(float(sum(self._rates[since:])))
        self.epochs_of.append(len(self._rates))

    def stop_at(self, epoch: int, module: nn.Module) -> None:
        """Training ended with the weights of ``epoch`` (early stopping restored them into ``module``): states
        taken after it are dropped, and the restored weights close the record when the last kept state is
        older."""
        if not self.enabled:
            return
        keep = [i for i, e in enumerate(self.epochs_of) if e <= epoch]
        self.states = [self.states[i] for i in keep]
        self.learning_rates = [self.learning_rates[i] for i in keep]
        self.epochs_of = [self.epochs_of[i] for i in keep]
        del self._rates[epoch:]
        if not self.epochs_of or self.epochs_of[-1] < epoch:
            self._take(module)

    def arrays(self) -> dict[str, np.ndarray]:
        return {f"{PREFIX}{i}.{k}": v for i, state in enumerate(self.states) for k, v in state.items()}

    def state(self) -> dict[str, Any]:
        return {"learning_rates": self.learning_rates, "epochs": self.epochs_of}


def restore(arrays: dict[str, np.ndarray], state: dict[str, Any] | None,
            base: dict[str, torch.Tensor] | None = None) -> TrainingCheckpoints | None:
    """The checkpoints stored in a cached artifact, or None when it was trained without recording them (or
    recorded none). ``base``: the final state_dict, filling in what partial checkpoints (a frozen backbone's)
    leave out: those entries did not change while training."""
    if not state or not state.get("learning_rates"):
        return None
    states: list[dict[str, torch.Tensor]] = [dict(base or {}) for _ in state["learning_rates"]]
    for key, value in arrays.items():
        found = re.match(rf"{re.escape(PREFIX)}(\d+)\.(.+)", key)
        if found:
            states[int(found.group(1))][found.group(2)] = torch.from_numpy(np.array(value))
    return TrainingCheckpoints(states, [float(r) for r in state["learning_rates"]])


def weights_only(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays without the recorded checkpoints."""
    return {k: v for k, v in arrays.items() if not k.startswith(PREFIX)}

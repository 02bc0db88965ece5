"""Shared set-up of gradient methods: the differentiable view of the batch and the explained output."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from ..models.base import Batch, Model
from ..models.gradients import GradientSpace
from .base import Explainer

DEFAULT_BASELINE = {"text": "pad", "image": "zeros", "tabular": "zeros"}


@dataclass(frozen=True)
class GradientExplainer(Explainer):
    """``output``: explain the target's "probability" (default, the same quantity perturbation methods use)
    or its "logit"."""

    requires: ClassVar[tuple[str, ...]] = ("gradients",)
    output: str = "probability"

    @staticmethod
    def space(model: Model, batch: Batch, targets: np.ndarray) -> tuple[GradientSpace, torch.Tensor]:
        space = model.gradient_space(batch)
        return space, torch.as_tensor(targets, device=space.x.device)

    @staticmethod
    def baseline_for(space: GradientSpace, batch: Batch, baseline: object) -> torch.Tensor:
        return space.baseline(DEFAULT_BASELINE[batch.modality] if baseline is None else baseline)


def seeded_noise(n: int, shape: tuple[int, ...], seed: int, like: torch.Tensor) -> torch.Tensor:
    """(n, *shape) standard normal draws that do not depend on the batch.

    Drawn with the first input axis leading, so for text (T, D) the draws of the first T_i tokens are the same
    whether an example is padded to a longer batch or not.
    """
    gen = torch.Generator(device=like.device).manual_seed(int(seed))
    draws = torch.randn((shape[0], n) + tuple(shape[1:]), generator=gen, device=like.device, dtype=like.dtype)
    return draws.transpose(0, 1)

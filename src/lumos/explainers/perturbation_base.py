"""Shared set-up of perturbation methods: which features exist and the model's output on keep-masks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..features.masking import masked_probs
from ..features.removal import BACKGROUND, BASELINE, SEGMENTATION, removable
from ..params import Int, param
from .base import Explainer


@dataclass(frozen=True)
class PerturbationExplainer(Explainer):
    """``baseline``: what a removed feature becomes (text "delete"/"mask"/"pad"; images "zeros"/"mean"/"blur"/
    a value; tables a row); ``background``: table rows averaged over for removed columns; images are split
    into features by ``segmentation`` ("slic", "quickshift", "grid") into about ``n_segments`` parts."""

    baseline: object = param(None, BASELINE)
    background: object = param(None, BACKGROUND)
    segmentation: str = param("slic", SEGMENTATION)
    n_segments: int = param(50, Int(low=1, high=100_000))

    def items(self, model, batch, seed: int, windows: tuple | None = None) -> list:
        return removable(model, batch, baseline=self.baseline, background=self.background,
                         segmentation=self.segmentation, n_segments=self.n_segments, windows=windows, seed=seed)


def target_outputs(model, items: Sequence, masks: Sequence[np.ndarray], targets: np.ndarray) -> list[np.ndarray]:
    """For each example its masks (S_i, F_i) -> (S_i,) probability of its target class."""
    probs = masked_probs(model, items, masks)
    return [p[:, t] for p, t in zip(probs, targets)]


def to_output_shape(item, scores: np.ndarray) -> np.ndarray:
    """Feature scores (F,) -> the Explanation's shape: (1, H, W) for images, (F,) otherwise."""
    return item.to_pixels(scores) if hasattr(item, "to_pixels") else scores.astype(np.float32)

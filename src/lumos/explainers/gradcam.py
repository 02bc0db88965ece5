"""Grad-CAM (Selvaraju et al. 2017): ReLU of the layer's channels weighted by their mean gradient."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..registry import register
from .cam_base import CamExplainer


@register("gradcam")
@dataclass(frozen=True)
class GradCam(CamExplainer):
    summary = "Class activation map: a conv layer's channels weighted by their spatially averaged gradient."
    plain = ("Which regions of the image the last convolutional layer's evidence for the class comes from (a coarse "
             "heat map).")
    misleads = "Coarse (the layer's resolution), and all zero when no channel has positive evidence for the class."

    def channel_weights(self, acts: torch.Tensor, grads: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        return grads.mean(dim=(2, 3))

"""Grad-CAM++ (Chattopadhay et al. 2018): pixel-wise weighted positive gradients.

With the score S = exp(logit) the higher derivatives reduce to powers of the first gradient g:
alpha = g^2 / (2 g^2 + sum_ij A g^3), weights = sum_ij alpha * relu(g).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..registry import register
from .cam_base import CamExplainer


@register("gradcam_pp")
@dataclass(frozen=True)
class GradCamPlusPlus(CamExplainer):
    summary = "Grad-CAM with pixel-wise weights on positive gradients; better with several objects."
    plain = "Like Grad-CAM, with weights that favour regions that raise the class score; better with several objects."
    misleads = "Coarse, and all zero or constant when the gradients are zero or negative (the report flags those maps)."

    def channel_weights(self, acts: torch.Tensor, grads: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        g2, g3 = grads**2, grads**3
        denom = 2 * g2 + (acts * g3).sum(dim=(2, 3), keepdim=True)
        alpha = g2 / torch.where(denom != 0, denom, torch.ones_like(denom))
        return (alpha * torch.relu(grads)).sum(dim=(2, 3))

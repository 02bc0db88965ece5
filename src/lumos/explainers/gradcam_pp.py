"""Grad-CAM++ (Chattopadhay et al. 2018): pixel-wise weighted positive gradients.

With the score S = exp(logit) the higher derivatives reduce to powers of the first gradient g (eq. 19):
alpha_ij = g_ij^2 / (2 g_ij^2 + (sum_ab A_ab) g_ij^3), per channel and pixel, and
weights = sum_ij alpha_ij * relu(g_ij). The common factor exp(logit) of the weights is left out (as
pytorch-grad-cam does): it scales every channel of an image alike. Where the denominator is 0, alpha is 0.
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
        """(N, K, h, w) activations and gradients -> (N, K) weights."""
        g2, g3 = grads**2, grads**3
        denom = 2 * g2 + acts.sum(dim=(2, 3), keepdim=True) * g3  # per pixel: the paper's eq. 19
        alpha = torch.where(denom != 0, g2 / torch.where(denom != 0, denom, torch.ones_like(denom)),
                            torch.zeros_like(denom))
        return (alpha * torch.relu(grads)).sum(dim=(2, 3))

"""Attention as explanation (text): the [CLS] row of the last layer, or attention rollout (Abnar & Zuidema 2020).

Rollout multiplies the head-averaged attention of every layer, each mixed with the identity for the residual
stream: A_l' = normalise(0.5 A_l + 0.5 I); R = A_L' ... A_1'. Target-independent by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from ..errors import InputError
from ..registry import register
from .base import Attribution, Explainer


@register("attention")
@dataclass(frozen=True)
class Attention(Explainer):
    """``mode``: "rollout" or "last_layer"; ``head_fusion``: "mean" or "max" over heads."""

    summary = "How much the classification token attends to each word (rollout across layers by default)."
    modalities: ClassVar[tuple[str, ...]] = ("text",)
    requires: ClassVar[tuple[str, ...]] = ("attention",)
    mode: str = "rollout"
    head_fusion: str = "mean"

    def attribute(self, model, batch, targets, probs, seed):
        if self.mode not in ("rollout", "last_layer") or self.head_fusion not in ("mean", "max"):
            raise InputError(f"attention takes mode 'rollout'/'last_layer' and head_fusion 'mean'/'max'; "
                             f"got {self.mode!r}, {self.head_fusion!r}.")
        out = []
        for doc, att in zip(batch.docs, model.attentions(batch)):  # att: (L, H, T, T)
            fused = att.mean(1) if self.head_fusion == "mean" else att.max(1).values  # (L, T, T)
            if self.mode == "last_layer":
                flow = fused[-1]
            else:
                eye = torch.eye(fused.shape[-1])
                flow = eye
                for layer in fused:
                    mixed = 0.5 * layer + 0.5 * eye
                    flow = (mixed / mixed.sum(-1, keepdim=True)) @ flow
            cls_row = flow[0].numpy().astype(np.float64)
            out.append(Attribution(doc.to_features(cls_row).astype(np.float32), {"mode": self.mode}))
        return out

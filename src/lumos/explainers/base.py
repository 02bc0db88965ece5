"""The explainer base: validation, targets, seeding, eval mode and packing live here, not in each method.

A method is a frozen dataclass of its hyper-parameters with one ``attribute`` function of the math on one
prepared batch. ``@register("name")`` makes ``lumos.explain(..., method="name")`` reach it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..models.base import Batch, Model


@dataclass(frozen=True)
class Attribution:
    """What a method returns for one example: the attributions and any method-specific extras."""

    values: np.ndarray
    extras: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class Explainer:
    """Base of every method. Class attributes are the method's metadata (shown by ``lumos.methods()``)."""

    name: ClassVar[str] = ""
    modalities: ClassVar[tuple[str, ...]] = ("text", "image", "tabular")
    requires: ClassVar[tuple[str, ...]] = ()  # model capabilities the method needs (lumos.models.CAPABILITIES)
    random: ClassVar[bool] = False
    summary: ClassVar[str] = ""

    def attribute(self, model: Model, batch: Batch, targets: np.ndarray, probs: np.ndarray,
                  seed: int) -> list[Attribution]:
        """The math: one Attribution per example of ``batch`` for its ``targets`` (B,).

        ``probs`` (B, K) are the model's probabilities on the unperturbed inputs (already computed).
        Random methods draw from ``seed`` per example, so an example's result never depends on its batch.
        """
        raise NotImplementedError

    @classmethod
    def applies_to(cls, model: Model, modality: str) -> bool:
        """Whether this method can run on ``model`` for ``modality`` inputs (used to suggest alternatives)."""
        return modality in cls.modalities and model.can(*cls.requires)

    @classmethod
    def info(cls) -> dict[str, Any]:
        return {
            "summary": cls.summary,
            "modalities": cls.modalities,
            "params": {f.name: f.default for f in dataclasses.fields(cls)},
            "requires": cls.requires,
            "needs_gradients": "gradients" in cls.requires,
            "random": cls.random,
        }

    @classmethod
    def param_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

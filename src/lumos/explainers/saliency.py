"""Saliency (Simonyan et al. 2014): the gradient of the explained output with respect to the input."""

from __future__ import annotations

from dataclasses import dataclass

from ..registry import register
from ..params import Bool, param
from .base import Attribution
from .gradient_base import GradientExplainer


@register("saliency")
@dataclass(frozen=True)
class Saliency(GradientExplainer):
    """``absolute``: magnitudes (|g| per pixel/value, the L2 norm per token embedding); else signed sums."""

    summary = "Gradient of the output with respect to the input (magnitude by default)."
    plain = "How sensitive the output is to each input feature (the size of the gradient)."
    misleads = "Sensitivity is not contribution: gradients are noisy and vanish where the model saturates."
    absolute: bool = param(True, Bool())

    def attribute(self, model, batch, targets, probs, seed):
        space, t = self.space(model, batch, targets)
        g = space.gradient_at_x(t, self.output)
        return [Attribution(a) for a in space.attributions(g, "norm" if self.absolute else "sum")]

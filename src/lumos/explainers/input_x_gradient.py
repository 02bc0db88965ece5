"""Input x gradient (Shrikumar et al. 2016): the gradient times the input, summed over embedding dims for text."""

from __future__ import annotations

from dataclasses import dataclass

from ..registry import register
from .base import Attribution
from .gradient_base import GradientExplainer


@register("input_x_gradient")
@dataclass(frozen=True)
class InputXGradient(GradientExplainer):
    summary = "Gradient times input: a first-order estimate of each feature's contribution."
    plain = "Each feature's value times the output's gradient: a first-order estimate of its contribution."
    misleads = ("A local linear approximation: wrong where the model is far from linear, and a feature at zero always "
                "gets zero.")

    def attribute(self, model, batch, targets, probs, seed):
        space, t = self.space(model, batch, targets)
        g = space.gradient_at_x(t, self.output)
        return [Attribution(a) for a in space.attributions(g * space.x, "sum")]

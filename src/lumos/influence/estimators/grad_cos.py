"""grad_cos: the cosine of test and training loss gradients (a similarity baseline)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import Tensor

from ..base import Method, Preconditioner, register
from ..problem import Problem


@register("grad_cos")
@dataclass(frozen=True)
class GradCos(Method):
    """scores = cos(g_test, g_train) in [-1, 1]. Self-influence would be 1 for every example, so it is None."""

    scale_by_n = False

    def fit(self, problem: Problem) -> Preconditioner:
        return unit

    def train_side(self, g: Tensor) -> Tensor:
        return unit(g)

    def run(self, problem: Problem, self_influence: bool) -> tuple[np.ndarray, np.ndarray | None]:
        return super().run(problem, False)[0], None


def unit(g: Tensor) -> Tensor:
    return g / g.norm(dim=1, keepdim=True).clamp_min(1e-30)

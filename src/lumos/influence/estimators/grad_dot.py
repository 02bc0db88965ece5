"""grad_dot: the plain dot product of test and training loss gradients (a similarity baseline)."""

from __future__ import annotations

from dataclasses import dataclass

from ..base import Method, register


@register("grad_dot")
@dataclass(frozen=True)
class GradDot(Method):
    """scores = g_test . g_train; self-influence = |g_train|^2. ``damping`` is unused."""

    scale_by_n = False

"""tracin: gradient products summed over training checkpoints (Pruthi et al. 2020, TracInCP):
scores[i, j] = sum_k lr_k g_test_i(theta_k) . g_train_j(theta_k); self-influence sum_k lr_k |g_j(theta_k)|^2.

Checkpoints are full state_dicts of the network (``train_with_checkpoints`` saves them); without any, the
model's current parameters are the single checkpoint (TracIn-last). A similarity in TracIn's own units, with
the same sign convention as the other methods (positive: a proponent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ...errors import InputError
from ..base import Method, identity, preconditioned_scores, register
from ..problem import Problem
from ...params import Anything, CONSTRAINT, Numbers, Optional, param


@register("tracin")
@dataclass(frozen=True)
class TracIn(Method):
    """``checkpoints``: state_dicts; ``learning_rates``: one per checkpoint (default 1 each)."""

    uses_checkpoints = True

    checkpoints: Sequence[dict[str, Any]] = field(default_factory=tuple, metadata={CONSTRAINT: Anything()})
    learning_rates: Sequence[float] | None = param(None, Optional(Numbers(low=0, low_open=True)))
    scale_by_n = False

    def rates(self) -> list[float]:
        k = max(len(self.checkpoints), 1)
        rates = [1.0] * k if self.learning_rates is None else [float(r) for r in self.learning_rates]
        if len(rates) != k:
            raise InputError(f"tracin: learning_rates has {len(rates)} values for {len(self.checkpoints)} checkpoints; "
                             "pass one learning rate per checkpoint.")
        return rates

    def run_all(self, problems: Sequence[Problem], self_influence: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """Sum the gradient products over one problem per checkpoint, weighted by its learning rate."""
        scores, own = 0.0, (0.0 if self_influence else None)
        for rate, problem in zip(self.rates(), problems):
            s, o = preconditioned_scores(problem, identity, identity, 1.0, self_influence)
            scores = scores + rate * s
            if own is not None:
                own = own + rate * o  # type: ignore[operator]
        return scores, own  # type: ignore[return-value]

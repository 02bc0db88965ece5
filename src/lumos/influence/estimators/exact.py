"""exact: the explicit damped Hessian inverse over the chosen parameters (Koh & Liang 2017), for small sets."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ...errors import InputError, UnsupportedError
from ..base import Method, Preconditioner, register
from ..problem import Problem


@register("exact")
@dataclass(frozen=True)
class Exact(Method):
    """``max_params``: the largest parameter count whose (p x p) Hessian is formed."""

    max_params: int = 5000

    def fit(self, problem: Problem) -> Preconditioner:
        p = problem.n_params
        if p > self.max_params:
            raise UnsupportedError(f"exact forms a {p} x {p} Hessian, above max_params={self.max_params}. Use "
                                   "params='last_layer', method='arnoldi', 'lissa' or 'ekfac', or raise max_params.")
        h = problem.hessian().to(torch.float64)
        h = (h + h.T) / 2 + self.damping * torch.eye(p, dtype=torch.float64)
        values, vectors = torch.linalg.eigh(h)
        check_positive(values, self.damping)
        inverse = (vectors / values) @ vectors.T
        return lambda g: g.to(torch.float64) @ inverse


def check_positive(values: Tensor, damping: float) -> None:
    """Raise when the damped Hessian (eigenvalues ``values``) is singular or not positive definite."""
    low, high = float(values.min()), float(values.abs().max())
    if low > 1e-9 * max(high, 1e-30):
        return
    if damping == 0 and abs(low) <= 1e-9 * max(high, 1e-30):
        raise InputError(f"the Hessian is singular (smallest eigenvalue {low:.3g}, largest {high:.3g}), so it has no "
                         "inverse. Pass damping > 0 (e.g. damping=1e-3; the L2 strength the model was trained "
                         "with is the natural choice).")
    raise InputError(f"the damped Hessian is not positive definite (smallest eigenvalue {low:.3g} with "
                     f"damping={damping}); the loss is not convex here. Raise damping above {-low + damping:.3g} "
                     "or choose fewer parameters (params='last_layer').")

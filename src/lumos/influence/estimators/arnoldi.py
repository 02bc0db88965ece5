"""arnoldi: influence in the top eigenspace of the Hessian (Schioppa et al. 2022).

The ``rank`` largest eigenpairs of the mean training Hessian are found by the implicitly restarted Arnoldi
(Lanczos, for a symmetric operator) method of ARPACK through scipy, using only Hessian-vector products; gradients
are projected onto them and the inverse is applied there: P = V diag(1 / (lambda + damping)) V^T.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.sparse.linalg import LinearOperator, eigsh
from torch import Tensor

from ...errors import InputError
from ..base import Method, Preconditioner, register
from ..problem import Problem


@register("arnoldi")
@dataclass(frozen=True)
class Arnoldi(Method):
    """``rank``: eigenpairs kept (capped at n_params - 1); ``hessian_samples``: training rows the Hessian is
    averaged over (a seeded subset; None: all); ``tol``: ARPACK's relative accuracy."""

    rank: int = 50
    hessian_samples: int | None = None
    tol: float = 1e-6

    def fit(self, problem: Problem) -> Preconditioner:
        if self.rank < 1:
            raise InputError(f"arnoldi's rank must be >= 1; got {self.rank}.")
        p = problem.n_params
        k = min(self.rank, p - 1)
        rows = problem.train
        if self.hessian_samples is not None and self.hessian_samples < len(rows):
            rng = np.random.default_rng(self.seed)
            rows = rows.take(np.sort(rng.choice(len(rows), self.hessian_samples, replace=False)))

        def matvec(v: np.ndarray) -> np.ndarray:
            t = torch.as_tensor(np.asarray(v).reshape(1, -1), dtype=problem.dtype)
            return problem.hvp(t, rows).to(torch.float64).numpy().reshape(-1)

        op = LinearOperator((p, p), matvec=matvec, dtype=np.float64)
        start = np.random.default_rng(self.seed).standard_normal(p)
        if k >= 1:
            values, vectors = eigsh(op, k=k, which="LA", tol=self.tol, v0=start)
        else:  # a single parameter: the Hessian is a number
            values, vectors = np.array([matvec(np.ones(1))[0]]), np.ones((1, 1))
        keep = values + self.damping > 1e-12 * max(np.abs(values).max(), 1e-30)
        if not keep.any():
            raise InputError(f"the top {k} Hessian eigenvalues plus damping={self.damping} are not positive "
                             f"(largest {values.max():.3g}); raise damping.")
        v = torch.from_numpy(vectors[:, keep])
        inverse_values = torch.from_numpy(1.0 / (values[keep] + self.damping))

        def precondition(g: Tensor) -> Tensor:
            return ((g.to(torch.float64) @ v) * inverse_values) @ v.T

        return precondition

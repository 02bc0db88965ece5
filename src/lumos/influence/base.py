"""The influence estimator base and the one driver they share (estimators register with
``@register(name, kind="influence")``, one file each in ``estimators/``).

A method estimates ``scores[i, j]``: the change of test example i's loss when training example j is removed
from training. Positive: removing j would raise the test loss, so j helped (a proponent); negative: j hurt
(an opponent). Most methods are a preconditioned gradient product, ``scale * g_test^T P g_train``:

    exact, lissa, arnoldi, ekfac: P ~ (H + damping I)^-1, scale 1/n (the first-order leave-one-out change);
    grad_dot: P = I, scale 1 (a similarity, same sign, not in loss units); grad_cos: unit-normalised gradients.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Callable, ClassVar

import numpy as np
from torch import Tensor

from ..errors import InputError
from ..registry import INFLUENCE
from .problem import Problem
from ..params import Float, SEED, param, validate

Preconditioner = Callable[[Tensor], Tensor]  # (k, p) gradients -> (k, p) P g

def register(name: str) -> Callable[[type["Method"]], type["Method"]]:
    """``@register("name")`` on an estimator class: the influence registry's decorator."""
    return INFLUENCE.register(name)


@dataclass(frozen=True)
class Method:
    """Hyper-parameters of a method (subclasses add theirs as fields); ``run`` does the work."""

    name = "method"
    summary = ""
    uses_checkpoints: ClassVar[bool] = False  # runs over training checkpoints (``run_all``), TracIn-style
    damping: float = param(1e-3, Float(low=0))
    seed: int = param(0, SEED)

    def __post_init__(self) -> None:
        validate(self, owner=f"influence method {self.name!r}")

    @classmethod
    def info(cls) -> dict[str, Any]:
        return {"summary": cls.summary or (cls.__doc__ or "").strip().split("\n")[0],
                "modalities": ("text", "image", "tabular"), "requires": ("network",),
                "params": {f.name: f.default for f in fields(cls)}}

    @classmethod
    def create(cls, **kw: Any) -> "Method":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(kw) - known)
        if unknown:
            raise InputError(f"influence method {cls.name!r} takes {sorted(known)}; got unknown {unknown}.")
        return cls(**kw)  # each value is checked against its declared constraint

    def run(self, problem: Problem, self_influence: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """(scores (n_test, n_train), self-influence (n_train,) or None)."""
        scale = 1.0 / len(problem.train) if self.scale_by_n else 1.0
        return preconditioned_scores(problem, self.fit(problem), self.train_side, scale, self_influence)

    # ----- preconditioned-product methods ---------------------------------------------------------------
    scale_by_n = True

    def fit(self, problem: Problem) -> Preconditioner:
        """Precompute P (an inverse, eigenvectors, factors) and return g -> P g; the default is P = I."""
        return identity

    def train_side(self, g: Tensor) -> Tensor:
        return g


def identity(g: Tensor) -> Tensor:
    return g


def preconditioned_scores(problem: Problem, precondition: Preconditioner, train_side: Preconditioner,
                          scale: float, self_influence: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Stream the training gradients once: scores = scale * P(g_test) . T(g_train); self = scale * P(g) . T(g).
    ``problem.progress(k)``, when the caller set it, is told as each batch of k training rows is scored."""
    n = len(problem.train)
    tick = getattr(problem, "progress", None)
    left = precondition(problem.all_grads(problem.test))  # float64 for the inverse-Hessian methods
    scores = np.zeros((len(problem.test), n))
    own = np.zeros(n) if self_influence else None
    for lo, hi, g in problem.grads(problem.train):
        right = train_side(g).to(left.dtype)
        scores[:, lo:hi] = (left @ right.T).numpy()
        if own is not None:
            own[lo:hi] = (precondition(g).to(left.dtype) * right).sum(1).numpy()
        if tick is not None:
            tick(hi - lo)
    scores *= scale
    if own is not None:
        own *= scale
    return scores, own

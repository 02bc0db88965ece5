"""One counterfactual query as the search methods see it: the row, its bounds, the target, a scoring budget, and
the pool of candidates scored so far."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .constraints import Bounds
from .target import Predictor, Target


@dataclass
class Query:
    """``x``: (F,) codes. ``budget``: the most candidate rows a search may score. ``pool``: every scored
    candidate (rows, margins), which the selection step chooses from."""

    bounds: Bounds
    target: Target
    predictor: Predictor
    n: int
    budget: int
    scored: int = 0
    pool_rows: list[np.ndarray] = field(default_factory=list)
    pool_margins: list[np.ndarray] = field(default_factory=list)

    @property
    def x(self) -> np.ndarray:
        return self.bounds.x

    @property
    def space(self):
        return self.bounds.space

    @property
    def remaining(self) -> int:
        return max(self.budget - self.scored, 0)

    def score(self, z: np.ndarray, pool: bool = True) -> np.ndarray:
        """(N, F) candidates -> (N,) margins (> 0: valid) in one model call, cut to the remaining budget.
        ``pool``: remember them as candidates for the selection."""
        z = z[: self.remaining]
        if len(z) == 0:
            return np.zeros(0)
        self.scored += len(z)
        margins = self.target.margin(self.predictor.outputs(z))
        if pool:
            self.pool_rows.append(z)
            self.pool_margins.append(margins)
        return margins

    def valid_pool(self) -> np.ndarray:
        """(M, F) distinct valid candidates scored so far that respect the bounds."""
        if not self.pool_rows:
            return np.zeros((0, self.space.n_features))
        z, m = np.concatenate(self.pool_rows), np.concatenate(self.pool_margins)
        z = z[(m > 0) & self.bounds.respected(z)]
        return np.unique(z, axis=0) if len(z) else z

    def enough(self, factor: int = 4) -> bool:
        """Whether the pool already holds ``factor * n`` distinct valid candidates."""
        return len(self.valid_pool()) >= factor * self.n

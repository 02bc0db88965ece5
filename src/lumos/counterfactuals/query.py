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
    candidate (rows, margins), which the selection step chooses from; ``outputs_seen``: row bytes -> the
    model's output, so the chosen rows need no further model call."""

    bounds: Bounds
    target: Target
    predictor: Predictor
    n: int
    budget: int
    scored: int = 0
    pool_rows: list[np.ndarray] = field(default_factory=list)
    pool_margins: list[np.ndarray] = field(default_factory=list)
    outputs_seen: dict[bytes, np.ndarray] = field(default_factory=dict)

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
        outputs = self.predictor.outputs(z)
        self.outputs_seen.update(zip((row.tobytes() for row in z), outputs))
        margins = self.target.margin(outputs)
        if pool:
            self.pool_rows.append(z)
            self.pool_margins.append(margins)
        return margins

    def outputs(self, z: np.ndarray) -> np.ndarray:
        """The model's outputs on rows, from the rows scored so far where possible (one call for the rest)."""
        missing = [i for i, row in enumerate(z) if row.tobytes() not in self.outputs_seen]
        if missing:
            self.outputs_seen.update(zip((z[i].tobytes() for i in missing), self.predictor.outputs(z[missing])))
        return np.array([self.outputs_seen[row.tobytes()] for row in z])

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

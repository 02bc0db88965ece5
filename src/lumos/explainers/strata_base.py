"""Sampled Shapley methods whose coalitions are drawn by size stratum in complementary pairs
(``coalition_strata``): kernel_shap, leverage_shap and regression_shap share this plan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .coalition_strata import StrataSample, strata_design
from .sampled_base import CoalitionValues, SampledShapley


@dataclass(frozen=True)
class StrataShapley(SampledShapley):
    """Budget: the empty coalition plus (n_samples - 1) // 2 complementary pairs, shared out between size
    strata by ``stratum_weight`` ("kernel" or "leverage"), at least ``per_stratum`` pairs each where it fits."""

    stratum_weight: ClassVar[str] = "leverage"
    per_stratum: ClassVar[int] = 2

    def minimum_per_stratum(self) -> int:
        return self.per_stratum

    def smallest_budget(self, n: int) -> int:
        return n + 2 if n % 2 else n + 1  # enough pairs for the regression to be determined

    def plan(self, state: dict[str, Any], n: int, budget: int) -> np.ndarray:
        streams = state.setdefault("streams", {})
        sizes, population, units = strata_design(n, (budget - 1) // 2, self.stratum_weight, state["rng"],
                                                 self.minimum_per_stratum(), streams)
        state["design"] = (sizes, population, units)
        drawn = [u for u in units if len(u)]
        if not drawn:
            return np.zeros((0, n), dtype=bool)
        z = np.concatenate(drawn)
        return np.concatenate([z, ~z])

    def sample(self, state: dict[str, Any], game: CoalitionValues) -> StrataSample:
        """The last plan's coalitions with their values."""
        sizes, population, units = state["design"]
        n = game.n
        return StrataSample(n, sizes, population, units, [game(u) for u in units], [game(~u) for u in units],
                            empty=float(game(np.zeros((1, n), bool))[0]), full=game.full)

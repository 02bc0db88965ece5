"""Random search: rows equal to the query except for a few features drawn within their bounds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ...registry import register
from ..query import Query


@register("random", kind="counterfactual")
@dataclass(frozen=True)
class RandomSearch:
    """``batch``: candidates scored per model call; stops once 4n valid candidates are found or the query's
    budget is spent."""

    summary: ClassVar[str] = "Random search: a few features redrawn within their bounds (any model)."
    modalities: ClassVar[tuple[str, ...]] = ("tabular",)

    batch: int = 250

    def search(self, query: Query, rng: np.random.Generator) -> None:
        while query.remaining > 0 and not query.enough():
            query.score(query.bounds.sample(rng, min(self.batch, query.remaining)))

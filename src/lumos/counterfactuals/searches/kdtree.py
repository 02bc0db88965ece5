"""Nearest neighbours: the training rows closest to the query among those the model already gives the desired
outcome, found with a KD-tree (scikit-learn, L1 on the MAD-scaled embedding) and projected onto the bounds
(immutable features set back to the query's values, numbers clipped). Projection can undo the outcome, so the
neighbours are scored in growing rings (one model call each) until 4n are valid or the budget is spent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from sklearn.neighbors import KDTree

from ...registry import register
from ..query import Query


@register("kdtree", kind="counterfactual")
@dataclass(frozen=True)
class NearestNeighbours:
    """``neighbours``: training rows per requested counterfactual in the first ring; each further ring is
    twice the size of the one before."""

    summary: ClassVar[str] = "The nearest training rows that reach the target, projected onto the bounds (any model)."
    modalities: ClassVar[tuple[str, ...]] = ("tabular",)

    neighbours: int = 20

    def search(self, query: Query, rng: np.random.Generator, reached: np.ndarray, tree: KDTree) -> None:
        """``reached``: (M, F) training rows the model gives the desired outcome; ``tree``: a KD-tree over their
        ``space.embed`` (both cached by the explainer)."""
        done, ring = 0, self.neighbours * query.n
        point = query.space.embed(query.x[None])
        while done < len(reached) and query.remaining > 0 and not query.enough():
            k = min(done + ring, len(reached))
            _, idx = tree.query(point, k=k)
            query.score(np.unique(query.bounds.project(reached[idx[0, done:]]), axis=0))
            done, ring = k, 2 * ring

"""Nearest neighbours: the training rows closest to the query among those the model already gives the desired
outcome, found with a KD-tree (scikit-learn, L1 on the MAD-scaled embedding) and projected onto the bounds
(immutable features set back to the query's values, numbers clipped), then scored in one model call."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.neighbors import KDTree

from .query import Query


@dataclass(frozen=True)
class NearestNeighbours:
    """``neighbours``: training rows taken from the tree per requested counterfactual."""

    neighbours: int = 20

    def search(self, query: Query, rng: np.random.Generator, reached: np.ndarray, tree: KDTree) -> None:
        """``reached``: (M, F) training rows the model gives the desired outcome; ``tree``: a KD-tree over their
        ``space.embed`` (both cached by the explainer)."""
        k = min(self.neighbours * query.n, len(reached), query.remaining)
        if k == 0:
            return
        _, idx = tree.query(query.space.embed(query.x[None]), k=k)
        query.score(np.unique(query.bounds.project(reached[idx[0]]), axis=0))

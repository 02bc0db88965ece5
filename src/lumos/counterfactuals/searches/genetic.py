"""Genetic search: a population of candidates bred towards rows that are valid, close and sparse.

The first generation mixes random rows (``RandomSearch``'s sampler) with the nearest training rows projected
onto the bounds; each generation keeps the best tenth, fills the rest with uniform crossovers of parents drawn
from the better half, and mutates each child's features (a new value, or back to the query's value). One
model call per generation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ...registry import register
from ..query import Query


@register("genetic", kind="counterfactual")
@dataclass(frozen=True)
class GeneticSearch:
    """``population``: rows per generation; ``generations``: the most generations once n are valid (until then
    the query's budget is the limit); ``patience``: generations without a better n-th best loss, once n are
    valid, before stopping; ``sparsity_weight``: loss per changed feature (as a fraction of all features)."""

    summary: ClassVar[str] = "Genetic search: candidates bred towards valid, close and sparse rows (any model)."
    modalities: ClassVar[tuple[str, ...]] = ("tabular",)

    population: int = 100
    generations: int = 30
    patience: int = 3
    sparsity_weight: float = 0.5

    def loss(self, query: Query, z: np.ndarray, margins: np.ndarray) -> np.ndarray:
        """(N,) invalid rows pay 10 + 10 x their shortfall (so validity comes first); all pay distance to x plus
        the sparsity term."""
        changed = (z != query.x).mean(axis=1)
        invalid = np.where(margins > 0, 0.0, 10.0 - 10.0 * margins)
        return invalid + query.space.distance(z, query.x) + self.sparsity_weight * changed

    def first_generation(self, query: Query, rng: np.random.Generator) -> np.ndarray:
        space, bounds = query.space, query.bounds
        half = self.population // 2
        train = space.train
        if len(train):
            nearest = np.argsort(space.distance(train, query.x), kind="stable")[: self.population - half]
            seeds = bounds.project(train[nearest])
        else:
            seeds = np.zeros((0, space.n_features))
        return np.concatenate([bounds.sample(rng, self.population - len(seeds)), seeds])

    def search(self, query: Query, rng: np.random.Generator) -> None:
        bounds = query.bounds
        z = self.first_generation(query, rng)
        margins = query.score(z)
        z = z[: len(margins)]
        loss = self.loss(query, z, margins)
        best, stale = np.inf, 0
        movable = np.flatnonzero(bounds.movable)
        generation = 1
        while True:
            order = np.argsort(loss, kind="stable")
            z, loss = z[order], loss[order]
            nth = loss[min(query.n, len(loss)) - 1]
            stale = stale + 1 if nth >= best - 1e-9 and nth < 10.0 else 0  # patience starts once n are valid
            best = min(best, nth)
            short = nth >= 10.0  # fewer than n valid: go on past ``generations`` while the budget lasts
            if (stale >= self.patience or (generation >= self.generations and not short) or query.remaining == 0
                    or len(movable) == 0):
                break
            generation += 1
            elite = max(1, len(z) // 10)
            m = min(self.population - elite, query.remaining)
            parents = rng.integers(0, max(len(z) // 2, 1), size=(m, 2))
            mix = rng.random((m, z.shape[1])) < 0.5
            children = np.where(mix, z[parents[:, 0]], z[parents[:, 1]])
            mutate = rng.random((m, len(movable))) < 1.0 / len(movable)
            revert = rng.random((m, len(movable))) < 0.5
            for c, j in enumerate(movable):
                rows = np.flatnonzero(mutate[:, c])
                fresh = bounds.sample_values(rng, j, len(rows))
                children[rows, j] = np.where(revert[rows, c], query.x[j], fresh)
            children = bounds.project(children)
            child_margins = query.score(children)
            children = children[: len(child_margins)]
            z = np.concatenate([z[:elite], children])
            loss = np.concatenate([loss[:elite], self.loss(query, children, child_margins)])

"""From a pool of valid candidates to n counterfactuals: close, diverse, and with no needless change.

Shared by every search method: a greedy diverse pick of 2n candidates, a batched sparsification (undo each
change that is not needed to stay valid, then pull numeric changes towards the original), and a final greedy
pick of n from the sparsified rows and the rest of the pool.
"""

from __future__ import annotations

import numpy as np

from .query import Query

PULL_FRACTIONS = np.arange(8) / 8  # 0 (back to x), 1/8, ..., 7/8 of a numeric change
INTEGER_STEPS = 16  # integer changes up to this size try every value in between


def _closer_values(space, j: int, original: float, value: float) -> np.ndarray:
    """Values of feature j between the original and the current value to try: the original (categories), or
    the original plus fractions of the change (numbers), every integer in between for small integer changes."""
    if space.categorical[j]:
        return np.array([original])
    change = value - original
    if space.integer[j] and abs(change) <= INTEGER_STEPS:
        return original + np.sign(change) * np.arange(abs(round(change)))
    return original + PULL_FRACTIONS * change


def greedy_pick(query: Query, z: np.ndarray, k: int, diversity_weight: float) -> np.ndarray:
    """k rows of ``z``: the closest to x first, then each time the row that minimises distance to x minus
    ``diversity_weight`` x its distance to the nearest row picked so far. Deterministic (ties: lowest index)."""
    if len(z) <= 1 or k <= 0:
        return z[:k]
    to_x = query.space.distance(z, query.x)
    picked = [int(np.argmin(to_x))]
    nearest = query.space.distance(z, z[picked[0]])
    while len(picked) < min(k, len(z)):
        cost = to_x - diversity_weight * nearest
        cost[picked] = np.inf
        best = int(np.argmin(cost))
        if not np.isfinite(cost[best]):
            break
        picked.append(best)
        nearest = np.minimum(nearest, query.space.distance(z, z[best]))
    return z[picked]


def sparsify(query: Query, z: np.ndarray, rounds: int = 8) -> np.ndarray:
    """(M, F) valid candidates -> the same number of valid candidates with changes undone where validity
    allows: each round scores, in one model call, every candidate with one changed feature moved closer to x
    (``_closer_values``: many values per round, since a model call costs far more than a row) and keeps, per
    candidate, the valid variant closest to x; a row that did not improve drops out. Stops when none improves,
    after ``rounds`` rounds, or when the budget is spent."""
    z = z.copy()
    x, space = query.x, query.space
    active = np.ones(len(z), dtype=bool)  # a row that did not improve would offer the same variants again
    for _ in range(rounds):
        variants, owners = [], []
        for i in np.flatnonzero(active):
            row = z[i]
            for j in np.flatnonzero(row != x):
                for value in _closer_values(space, j, x[j], row[j]):
                    v = row.copy()
                    v[j] = value
                    variants.append(v)
                    owners.append(i)
        if not variants or query.remaining == 0:
            break
        candidates = query.bounds.project(np.stack(variants))
        margins = query.score(candidates, pool=False)
        owners_arr = np.asarray(owners[: len(margins)])
        candidates = candidates[: len(margins)]
        ok = (margins > 0) & query.bounds.respected(candidates)
        gain = query.space.distance(candidates, x)
        for i in np.flatnonzero(active):
            mine = np.flatnonzero(ok & (owners_arr == i))
            best = mine[np.argmin(gain[mine])] if len(mine) else None
            if best is not None and gain[best] < space.distance(z[i:i + 1], x)[0] - 1e-12:
                z[i] = candidates[best]
            else:
                active[i] = False
        if not active.any():
            break
    return z


def choose(query: Query, n: int, diversity_weight: float) -> np.ndarray:
    """The final (<= n, F) counterfactuals from the query's valid pool."""
    pool = query.valid_pool()
    if len(pool) == 0:
        return pool
    shortlist = sparsify(query, greedy_pick(query, pool, 2 * n, diversity_weight))
    # sparsified rows may coincide; the rest of the pool keeps the count at n where it can
    return greedy_pick(query, np.unique(np.concatenate([shortlist, pool]), axis=0), n, diversity_weight)

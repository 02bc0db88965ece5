"""Coalitions sampled by size stratum, in complementary pairs, without replacement.

The shared design of the sampled Shapley estimators (leverage_shap, regression_shap, stratified_shap). The
coalitions of F players with 0 < |S| < F are split into strata by size; a *unit* is a complementary pair
(S, N \\ S) with |S| = s <= F / 2, so stratum s (s < F / 2) has C(F, s) units and stratum F / 2 has
C(F, F / 2) / 2. A budget of units is shared out between strata (capped proportional allocation: a stratum
that its share would cover completely is enumerated, the rest is shared again), and each stratum is read
from a seeded stream of distinct units in random order, so a larger budget reuses a smaller one's units.
Every estimator reads a ``StrataSample`` and is exact on a stratum whose units were all drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from math import comb, factorial

import numpy as np

_ENUMERATE_UP_TO = 20_000  # strata with at most this many units are shuffled whole; larger ones are rejection-sampled


def shapley_weights(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(n + 1,) each: phi_j = sum_S v(S) (w_in[|S|] if j in S else -w_out[|S|]), the Shapley value as a linear
    form of the game's values (w_in[s] = (s-1)!(n-s)!/n!, w_out[s] = s!(n-s-1)!/n!)."""
    w_in, w_out = np.zeros(n + 1), np.zeros(n + 1)
    for s in range(n + 1):
        if s >= 1:
            w_in[s] = factorial(s - 1) * factorial(n - s) / factorial(n)
        if s <= n - 1:
            w_out[s] = factorial(s) * factorial(n - s - 1) / factorial(n)
    return w_in, w_out


def stratum_sizes(n: int) -> list[int]:
    """The strata of units: sizes s = 1 .. floor(n / 2) of the unit's first coalition."""
    return list(range(1, n // 2 + 1))


def stratum_population(n: int, s: int) -> int:
    """How many units (complementary pairs) stratum ``s`` holds."""
    return comb(n, s) // 2 if 2 * s == n else comb(n, s)


def allocate(population: np.ndarray, weight: np.ndarray, units: int, minimum: int = 0) -> np.ndarray:
    """Integer units per stratum (sum <= ``units``): proportional to ``weight``, capped at the population
    (a capped stratum is enumerated and its surplus shared out again); at least ``minimum`` per stratum where
    the budget allows; the remainder after rounding down goes to the largest fractions."""
    population = np.minimum(np.asarray(population, dtype=np.float64), 2.0**62).astype(np.int64)  # beyond any budget
    k = np.minimum(population, minimum)
    if k.sum() > units:
        return _spread(population, weight, units)
    left = units - int(k.sum())
    open_ = k < population
    while left > 0 and open_.any():
        share = np.zeros(len(population))
        share[open_] = left * weight[open_] / weight[open_].sum()
        room = population - k
        full = open_ & (share >= room)
        if full.any():  # enumerate the strata this share would cover, then share again
            left -= int(room[full].sum())
            k[full] = population[full]
            open_ &= ~full
            continue
        base = np.floor(share).astype(np.int64)
        k += base
        left -= int(base.sum())
        frac = np.where(open_, share - base, -1.0)
        for i in np.argsort(-frac, kind="stable")[:left]:
            if frac[i] >= 0 and k[i] < population[i]:
                k[i] += 1
                left -= 1
        break
    return k


def _spread(population: np.ndarray, weight: np.ndarray, units: int) -> np.ndarray:
    """Fewer units than strata x minimum: one unit each to the strata of largest weight."""
    k = np.zeros(len(population), dtype=np.int64)
    for i in np.argsort(-weight, kind="stable"):
        if units <= 0:
            break
        k[i] = 1
        units -= 1
    return k


class UnitStream:
    """Distinct units of stratum ``s`` in a random order fixed by ``rng``: ``take(k)`` is always a prefix."""

    def __init__(self, n: int, s: int, rng: np.random.Generator):
        self.n, self.s, self.rng = n, s, rng
        self.population = stratum_population(n, s)
        self._rows: list[np.ndarray] = []
        self._seen: set[bytes] = set()
        self._all: np.ndarray | None = None
        if self.population <= _ENUMERATE_UP_TO:
            members = [c for c in combinations(range(n), s) if 2 * s < n or 0 in c]
            masks = np.zeros((len(members), n), dtype=bool)
            for i, c in enumerate(members):
                masks[i, list(c)] = True
            self._all = masks[rng.permutation(len(masks))]

    def take(self, k: int) -> np.ndarray:
        """(k, n) bool: the first k units' size-s coalitions (for s = n / 2, the member holding player 0)."""
        k = min(k, self.population)
        if self._all is not None:
            return self._all[:k]
        while len(self._rows) < k:
            m = np.zeros(self.n, dtype=bool)
            m[self.rng.choice(self.n, self.s, replace=False)] = True
            if 2 * self.s == self.n and not m[0]:
                m = ~m
            key = np.packbits(m).tobytes()
            if key not in self._seen:
                self._seen.add(key)
                self._rows.append(m)
        return np.array(self._rows[:k], dtype=bool).reshape(k, self.n)


@dataclass
class StrataSample:
    """Per stratum ``sizes[i]``: ``units[i]`` (k_i, n) bool first coalitions (their complements are the second
    ones), ``first[i]`` and ``second[i]`` (k_i,) the game's values on them; ``population[i]`` units in all.
    ``empty`` and ``full``: v(no player), v(all players)."""

    n: int
    sizes: list[int]
    population: np.ndarray
    units: list[np.ndarray]
    first: list[np.ndarray]
    second: list[np.ndarray]
    empty: float
    full: float

    @property
    def counts(self) -> np.ndarray:
        return np.array([len(u) for u in self.units], dtype=np.int64)

    @property
    def complete(self) -> bool:
        return bool(np.all(self.counts == self.population))

    def coalitions(self) -> tuple[np.ndarray, np.ndarray]:
        """(2K, n) every sampled coalition (first members, then complements) and (2K,) their values."""
        z = np.concatenate([np.concatenate([u, ~u]) for u in self.units]) if self.units else np.zeros((0, self.n), bool)
        y = np.concatenate([np.concatenate([a, b]) for a, b in zip(self.first, self.second)]) if self.units else np.zeros(0)
        return z, y


def strata_design(n: int, units: int, weight: str, rng: np.random.Generator, minimum: int = 0,
                  streams: dict | None = None) -> tuple[list[int], np.ndarray, list[np.ndarray]]:
    """Sizes, populations and the drawn units ((k_s, n) bool each) for a budget of ``units`` pairs.

    ``weight``: "leverage" (each coalition size equally: the leverage scores of Musco & Witter 2025) or
    "kernel" (the Shapley kernel's mass per size). ``streams`` keeps each stratum's stream between calls."""
    sizes = stratum_sizes(n)
    population = np.array([stratum_population(n, s) for s in sizes], dtype=np.float64)  # C(n, s) > 2^63 from n = 67
    per_size = np.array([1.0 if 2 * s == n else 2.0 for s in sizes])  # sizes a stratum stands for
    if weight == "kernel":
        per_size = per_size / np.array([s * (n - s) for s in sizes], dtype=np.float64)
    elif weight != "leverage":
        raise ValueError(f"unknown stratum weight {weight!r}")
    k = allocate(population, per_size, units, minimum)
    streams = {} if streams is None else streams
    drawn = []
    for s, ks in zip(sizes, k):
        if s not in streams:
            streams[s] = UnitStream(n, s, np.random.default_rng(rng.integers(2**63)))
        drawn.append(streams[s].take(int(ks)))
    return sizes, population, drawn


def ht_shapley(sample: StrataSample, first: list[np.ndarray] | None = None, second: list[np.ndarray] | None = None,
               empty: float | None = None, full: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Horvitz-Thompson (maximum sample reuse) estimate of the Shapley values of a game from its values on the
    sample (default: the sample's own values): unbiased, exact on complete strata, and efficient by construction
    (every coalition's weights sum to 0 over the players). Returns phi (n,) and its variance estimate (n,)
    (without-replacement stratified sampling, finite-population corrected)."""
    n = sample.n
    first = sample.first if first is None else first
    second = sample.second if second is None else second
    empty = sample.empty if empty is None else empty
    full = sample.full if full is None else full
    w_in, w_out = shapley_weights(n)
    phi = np.full(n, (full - empty) / n)
    var = np.zeros(n)
    for s, pop, u, a, b in zip(sample.sizes, sample.population, sample.units, first, second):
        k = len(u)
        if k == 0:
            continue
        y = unit_contributions(u, a, b, w_in, w_out)  # (k, n)
        phi += pop / k * y.sum(0)
        if k < pop and k > 1:
            var += pop**2 * (1 - k / pop) * y.var(0, ddof=1) / k
    return phi, var


def unit_contributions(u: np.ndarray, a: np.ndarray, b: np.ndarray, w_in: np.ndarray, w_out: np.ndarray) -> np.ndarray:
    """(k, n): each unit's term of the Shapley linear form, v(S) w(S, j) + v(S^c) w(S^c, j)."""
    n = u.shape[1]
    s = u.sum(1)
    t = n - s
    in_s = np.where(u, w_in[s][:, None], -w_out[s][:, None]) * a[:, None]
    in_t = np.where(~u, w_in[t][:, None], -w_out[t][:, None]) * b[:, None]
    return in_s + in_t


def kernel_weights(n: int, s: np.ndarray) -> np.ndarray:
    """The Shapley kernel's weight of one coalition of size s (0 < s < n): (n - 1) / (C(n, s) s (n - s))."""
    s = np.asarray(s)
    return (n - 1) / (np.array([comb(n, int(k)) for k in s.reshape(-1)], dtype=np.float64).reshape(s.shape)
                      * s * (n - s))


def kernel_regression(sample: StrataSample) -> tuple[np.ndarray, np.ndarray]:
    """Kernel SHAP's weighted least squares on a stratified sample, efficiency held exactly.

    Each sampled coalition weighs its Shapley-kernel weight times its stratum's inverse sampling fraction
    (population / drawn), so the weighted design estimates the full 2^n regression and equals it on complete
    strata. Returns phi (n,) and a linearised (sandwich) variance (n,): the regression's score per unit, varied
    within strata with the finite-population correction."""
    n = sample.n
    total = sample.full - sample.empty
    if n == 1:
        return np.array([total]), np.zeros(1)
    z, y = sample.coalitions()
    counts = sample.counts
    ht = np.concatenate([np.full(2 * k, p / max(k, 1)) for p, k in zip(sample.population, counts)])  # k = 0: none
    w = kernel_weights(n, z.sum(1)) * ht
    x = z.astype(np.float64)
    reduced = x[:, :-1] - x[:, -1:]
    target = (y - sample.empty) - x[:, -1] * total
    h = reduced.T @ (reduced * w[:, None])
    theta = np.linalg.lstsq(h, reduced.T @ (w * target), rcond=None)[0]
    phi = np.append(theta, total - theta.sum())
    scores = reduced * (w / ht * (target - reduced @ theta))[:, None]  # per coalition, before the HT factor
    meat = np.zeros((n - 1, n - 1))
    lo = 0
    for p, k in zip(sample.population, counts):
        if k == 0:
            continue
        first, second = scores[lo:lo + k], scores[lo + k:lo + 2 * k]
        lo += 2 * k
        if 1 < k < p:
            unit = first + second
            meat += p**2 * (1 - k / p) * np.cov(unit, rowvar=False, ddof=1).reshape(n - 1, n - 1) / k
    sampled = int(sum(k for p, k in zip(sample.population, counts) if 1 < k < p))
    if sampled > n:  # small-sample correction for the n - 1 fitted coefficients (as HC1 does)
        meat *= sampled / (sampled - (n - 1))
    hinv = np.linalg.pinv(h)
    cov = hinv @ meat @ hinv
    t = np.vstack([np.eye(n - 1), -np.ones((1, n - 1))])
    return phi, np.einsum("ij,jk,ik->i", t, cov, t)

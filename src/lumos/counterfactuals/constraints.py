"""What a counterfactual may change: user constraints, and the per-query bounds they resolve to.

Always enforced: categorical values come from the training data, numeric values stay in the training range,
integer features stay integers. On top of that (``Constraints``): immutable features, the features to vary,
permitted ranges (numeric (low, high) or a list of allowed categories) and monotonic features.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import InputError
from .space import FeatureSpace


@dataclass(frozen=True)
class Constraints:
    """``immutable``: features that never change (None: the model's zoo metadata, e.g. race, sex, age on Adult).
    ``vary``: the only features that may change (None: all but the immutable ones). ``ranges``: feature ->
    (low, high) for numbers or a list of allowed values for categories. ``monotonic``: feature -> "increase" or
    "decrease" (numeric features only). ``min_count``: a category seen fewer times than this in the training
    data is not offered as a new value (rare values make valid but implausible counterfactuals)."""

    immutable: tuple[str, ...] | None = None
    vary: tuple[str, ...] | None = None
    ranges: Mapping[str, Any] = field(default_factory=dict)
    monotonic: Mapping[str, str] = field(default_factory=dict)
    min_count: int = 0

    @classmethod
    def of(cls, value: "Constraints | Mapping[str, Any] | None") -> "Constraints":
        """None, a Constraints or a dict with the same keys -> Constraints."""
        if value is None:
            return cls()
        if isinstance(value, Constraints):
            return value
        if not isinstance(value, Mapping):
            raise InputError(f"constraints must be a dict (or a Constraints from lumos.counterfactuals); got "
                             f"{type(value).__name__}.")
        known = [f.name for f in fields(cls)]
        unknown = [k for k in value if k not in known]
        if unknown:
            raise InputError(f"unknown constraint keys {unknown}; use {known}.")
        kw = dict(value)
        for key in ("immutable", "vary"):
            if kw.get(key) is not None:
                kw[key] = (kw[key],) if isinstance(kw[key], str) else tuple(kw[key])
        return cls(**kw)

    def without(self, kind: str, feature: str) -> "Constraints":
        """The same constraints with one relaxed: kind in immutable, vary, ranges, monotonic, min_count."""
        if kind == "immutable":
            return replace(self, immutable=tuple(f for f in self.immutable or () if f != feature))
        if kind == "vary":
            return replace(self, vary=None)
        if kind == "min_count":
            return replace(self, min_count=0)
        if kind == "ranges":
            return replace(self, ranges={k: v for k, v in self.ranges.items() if k != feature})
        return replace(self, monotonic={k: v for k, v in self.monotonic.items() if k != feature})

    def items(self, space: FeatureSpace) -> list[tuple[str, str]]:
        """(kind, feature) of every single constraint that can be relaxed, for explaining an empty result."""
        out = [("min_count", "")] if self.min_count > 0 else []  # the mildest relaxation, tried first
        out += [("immutable", f) for f in self.resolved_immutable(space)]
        out += [("vary", "")] if self.vary is not None else []
        out += [("ranges", f) for f in self.ranges] + [("monotonic", f) for f in self.monotonic]
        return out

    def resolved_immutable(self, space: FeatureSpace) -> tuple[str, ...]:
        return space.default_immutable if self.immutable is None else self.immutable


def describe(kind: str, feature: str) -> str:
    return {"immutable": f"immutable feature {feature!r}", "vary": "the list of features to vary",
            "ranges": f"the permitted range of {feature!r}", "monotonic": f"the monotonic constraint on {feature!r}",
            "min_count": "the minimum category count"}[kind]


@dataclass(frozen=True)
class Bounds:
    """The constraints resolved for one query row ``x`` (F,) codes. ``low``/``high``: (F,) inclusive numeric
    bounds; ``allowed``: categorical column -> allowed codes; ``mutable``: (F,) bool. ``empty``: features whose
    permitted set is empty (the query's own value excluded and nothing else allowed)."""

    space: FeatureSpace
    x: np.ndarray
    low: np.ndarray
    high: np.ndarray
    allowed: dict[int, np.ndarray]
    mutable: np.ndarray
    empty: tuple[str, ...]

    @classmethod
    def resolve(cls, space: FeatureSpace, constraints: Constraints, x: np.ndarray) -> "Bounds":
        immutable = constraints.resolved_immutable(space)
        for name in immutable:
            space.index(name, "constraints['immutable']")
        mutable = np.ones(space.n_features, dtype=bool)
        if constraints.vary is not None:
            mutable[:] = False
            for name in constraints.vary:
                mutable[space.index(name, "constraints['vary']")] = True
        for name in immutable:
            mutable[space.index(name, "constraints['immutable']")] = False
        low, high = space.low.copy(), space.high.copy()
        allowed = {j: np.arange(len(space.categories[space.features[j]])) for j in np.flatnonzero(space.categorical)}
        if not isinstance(constraints.min_count, (int, np.integer)) or constraints.min_count < 0:
            raise InputError(f"constraints['min_count'] must be a non-negative integer; got {constraints.min_count!r}.")
        if constraints.min_count > 0:
            for j, codes in allowed.items():
                counts = np.bincount(space.train[:, j].astype(np.int64), minlength=len(codes))
                allowed[j] = codes[(counts >= constraints.min_count) | (codes == x[j])]
        for name, spec in constraints.ranges.items():
            j = space.index(name, "constraints['ranges']")
            if space.categorical[j]:
                values = [spec] if isinstance(spec, str) else list(spec)
                known = space.categories[name]
                unknown = [v for v in values if v not in known]
                if unknown:
                    raise InputError(f"constraints['ranges'][{name!r}] allows {unknown}, which never occur in the "
                                     f"training data; known values: {list(known)}.")
                allowed[j] = np.array(sorted(known.index(v) for v in values))
            else:
                lo, hi = _pair(name, spec)
                low[j], high[j] = max(low[j], lo), min(high[j], hi)
        for name, direction in constraints.monotonic.items():
            j = space.index(name, "constraints['monotonic']")
            if space.categorical[j]:
                raise InputError(f"monotonic constraints need a numeric feature; {name!r} is categorical. Restrict "
                                 f"its values with constraints['ranges'][{name!r}] = [allowed values] instead.")
            if direction not in ("increase", "decrease"):
                raise InputError(f"constraints['monotonic'][{name!r}] must be 'increase' or 'decrease'; got "
                                 f"{direction!r}.")
            if direction == "increase":
                low[j] = max(low[j], x[j])
            else:
                high[j] = min(high[j], x[j])
        integer = space.integer & ~space.categorical
        low[integer], high[integer] = np.ceil(low[integer] - 1e-9), np.floor(high[integer] + 1e-9)
        fixed = ~mutable
        low[fixed & ~space.categorical], high[fixed & ~space.categorical] = x[fixed & ~space.categorical], \
            x[fixed & ~space.categorical]
        for j in allowed:
            if fixed[j]:
                allowed[j] = np.array([int(x[j])])
        empty = tuple(space.features[j] for j in range(space.n_features)
                      if (j in allowed and len(allowed[j]) == 0) or (j not in allowed and low[j] > high[j]))
        return cls(space, x, low, high, allowed, mutable, empty)

    @property
    def movable(self) -> np.ndarray:
        """(F,) bool: features that can take more than one value."""
        out = self.mutable & (self.high > self.low)
        for j, codes in self.allowed.items():
            out[j] = self.mutable[j] and (len(codes) > 1 or (len(codes) == 1 and codes[0] != self.x[j]))
        return out

    def sample_values(self, rng: np.random.Generator, j: int, m: int) -> np.ndarray:
        """m values of feature j within its bounds: categories uniformly, numbers half from the training values
        (plausible) and half uniformly (values the training data lacks)."""
        if j in self.allowed:
            return rng.choice(self.allowed[j], size=m).astype(np.float64)
        lo, hi = self.low[j], self.high[j]
        uniform = rng.uniform(lo, hi, size=m)
        train = self.space.train[:, j]
        drawn = train[rng.integers(0, len(train), size=m)]
        values = np.where((rng.random(m) < 0.5) & (drawn >= lo) & (drawn <= hi), drawn, uniform)
        return np.clip(np.rint(values), lo, hi) if self.space.integer[j] else values

    def sample(self, rng: np.random.Generator, m: int) -> np.ndarray:
        """(m, F) rows equal to x except for a random subset of the movable features (k features with
        probability proportional to 1/k), each drawn by ``sample_values``; projected onto the bounds."""
        movable = np.flatnonzero(self.movable)
        z = np.repeat(self.x[None], m, axis=0)
        if len(movable) == 0:
            return z
        sizes = np.arange(1, len(movable) + 1)
        k = rng.choice(sizes, size=m, p=(1 / sizes) / (1 / sizes).sum())
        order = np.argsort(rng.random((m, len(movable))), axis=1)
        chosen = order < k[:, None]  # (m, movable): a random k-subset per row
        for c, j in enumerate(movable):
            rows = np.flatnonzero(chosen[:, c])
            z[rows, j] = self.sample_values(rng, j, len(rows))
        return self.project(z)

    def project(self, z: np.ndarray) -> np.ndarray:
        """(N, F) -> the nearest rows that respect the bounds: numbers clipped (and rounded when integer),
        disallowed categories and fixed features set back to x (or to the first allowed value)."""
        out = z.copy()
        numeric = ~self.space.categorical
        out[:, numeric] = np.clip(out[:, numeric], self.low[numeric], self.high[numeric])
        integer = self.space.integer & numeric
        out[:, integer] = np.clip(np.rint(out[:, integer]), self.low[integer], self.high[integer])
        for j, codes in self.allowed.items():
            ok = np.isin(out[:, j], codes)
            fallback = self.x[j] if self.x[j] in codes else (codes[0] if len(codes) else self.x[j])
            out[~ok, j] = fallback
        return out

    def respected(self, z: np.ndarray) -> np.ndarray:
        """(N, F) -> (N,) bool: every constraint holds (fixed features unchanged, values in range and from
        training data, integers whole)."""
        ok = np.ones(len(z), dtype=bool)
        numeric = ~self.space.categorical
        tol = 1e-9 * np.maximum(1.0, np.abs(self.high[numeric]))
        ok &= np.all((z[:, numeric] >= self.low[numeric] - tol) & (z[:, numeric] <= self.high[numeric] + tol), axis=1)
        integer = self.space.integer & numeric
        ok &= np.all(np.abs(z[:, integer] - np.rint(z[:, integer])) < 1e-9, axis=1)
        for j, codes in self.allowed.items():
            ok &= np.isin(z[:, j], codes)
        ok &= np.all(z[:, ~self.mutable] == self.x[~self.mutable], axis=1)
        return ok


def _pair(name: str, spec: Any) -> tuple[float, float]:
    if isinstance(spec, str) or not isinstance(spec, Sequence) or len(spec) != 2:
        raise InputError(f"constraints['ranges'][{name!r}] must be (low, high) for a numeric feature; got {spec!r}.")
    lo, hi = float(spec[0]), float(spec[1])
    if lo > hi:
        raise InputError(f"constraints['ranges'][{name!r}] = ({lo:g}, {hi:g}) is empty: low is above high.")
    return lo, hi

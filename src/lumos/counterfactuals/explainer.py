"""CounterfactualExplainer: one model and its training data, any number of queries.

It measures the feature space once (ranges, MAD, categories) and caches what several queries share (the model's
outputs on the training rows for the KD-tree method, the plausibility models); every query is independent of
the ones before it and deterministic for its seed.
"""

from __future__ import annotations

import time
from dataclasses import asdict, fields
from typing import Any

import numpy as np
import pandas as pd
from sklearn.neighbors import KDTree

from .. import registry
from ..deprecation import renamed_keywords
from ..errors import InputError
from .constraints import Bounds, Constraints, describe
from .metrics import Plausibility, score_set
from .query import Query
from .searches.kdtree import NearestNeighbours
from .searches.random_search import RandomSearch
from .result import CounterfactualSet
from .select import choose
from .space import build_space
from .target import Predictor, Target, is_regressor

DIAGNOSIS_BUDGET = 2000


def _features(model: Any, data: pd.DataFrame) -> tuple[list[str], Any]:
    """The model's feature order and its zoo schema (None for other models)."""
    schema = getattr(model, "schema", None)
    if schema is not None and hasattr(schema, "features"):
        return list(schema.features), schema
    columns = getattr(model, "columns", None) or list(getattr(model, "feature_names_in_", []))
    if not columns and not is_regressor(model):
        estimator = getattr(model, "estimator", None)
        columns = list(getattr(estimator, "feature_names_in_", []))
    return (list(map(str, columns)) if columns else [c for c in map(str, data.columns) if c != "label"]), None


def as_row(x: Any, what: str = "x") -> pd.DataFrame:
    """A 1-row DataFrame from a DataFrame, Series or dict."""
    if isinstance(x, pd.Series):
        x = x.to_frame().T
    elif isinstance(x, dict):
        x = pd.DataFrame([x])
    if not isinstance(x, pd.DataFrame):
        raise InputError(f"{what} must be one row as a DataFrame, Series or dict of feature -> value; got "
                         f"{type(x).__name__}.")
    if len(x) != 1:
        raise InputError(f"{what} must be one row; got {len(x)}. Call once per row (a CounterfactualExplainer "
                         "shares the set-up between calls).")
    return x.reset_index(drop=True)


class CounterfactualExplainer:
    """``model``: a classifier (anything ``lumos.wrap`` takes; a zoo table model brings its schema) or a
    regressor (``predict`` on a DataFrame). ``data``: training rows (DataFrame) with the model's features, which
    fix the ranges, MAD scales and categories."""

    def __init__(self, model: Any, data: pd.DataFrame):
        if not isinstance(data, pd.DataFrame):
            raise InputError(f"data= must be the training rows as a DataFrame; got {type(data).__name__}.")
        features, schema = _features(model, data)
        self.space = build_space(features, data, schema)
        self.predictor = Predictor(model, self.space)
        self._train_margins: dict[tuple, np.ndarray] = {}
        self._trees: dict[tuple, tuple[np.ndarray, KDTree]] = {}
        self._plausibility: Plausibility | None = None

    # ----- generation --------------------------------------------------------------------------------
    @renamed_keywords(desired="target")
    def explain(self, x: Any, target: Any = None, n: int = 5, method: str = "genetic",
                constraints: Constraints | dict | None = None, seed: int = 0, budget: int = 5000,
                diversity_weight: float = 0.5, metrics: bool = True, **params: Any) -> CounterfactualSet:
        """Up to ``n`` counterfactuals for the row ``x`` that the model gives the ``target`` outcome (a class
        label or index, default the other class of a binary classifier; (low, high) for a regressor).

        ``budget``: the most candidate rows the search scores with the model (the gradient method also stops
        after its ``steps``); the selection step may score up to as many again to remove needless changes.
        ``params``: the method's own settings (see its dataclass). ``metrics``: compute the quality metrics.
        """
        start = time.perf_counter()
        search = registry.get(method, "counterfactual")
        registry.check_params(f"counterfactual method {method!r}", params, [f.name for f in fields(search)])
        if not isinstance(n, (int, np.integer)) or n < 1 or budget < 1:
            raise InputError(f"n and budget must be positive integers; got n={n!r}, budget={budget!r}.")
        searcher = search(**params)
        row = as_row(x)
        xz = self.space.encode(row, "x")[0]
        rules = Constraints.of(constraints)
        bounds = Bounds.resolve(self.space, rules, xz)
        x_out = self.predictor.outputs(xz[None])
        goal = Target.resolve(target, self.predictor, x_out[0])
        query = Query(bounds, goal, self.predictor, int(n), int(budget))
        rng = np.random.default_rng(seed)
        reason = self._infeasible(bounds, goal, x_out, rules)
        chosen = np.zeros((0, self.space.n_features))
        if reason is None:
            if isinstance(searcher, NearestNeighbours):
                searcher.search(query, rng, *self._tree(goal))
            else:
                searcher.search(query, rng)
            query.budget = query.scored + int(budget)
            chosen = choose(query, int(n), diversity_weight)
            if len(chosen) == 0:
                reason = self._blocking(xz, goal, rules, seed, method, query.scored)
            elif len(chosen) < n:
                reason = (f"only {len(chosen)} distinct valid counterfactuals within {query.scored} model "
                          "evaluations (raise budget= or try another method for more)")
        outputs = query.outputs(chosen) if len(chosen) else np.zeros((0,) + x_out.shape[1:])
        seconds = time.perf_counter() - start
        scores = (score_set(self.space, bounds, goal, self.predictor, chosen, self.plausibility(), seconds)
                  if metrics else {"seconds": seconds, "count": float(len(chosen))})
        original = self.space.decode(xz[None])
        found = self.space.decode(chosen)
        settings = {"n": int(n), "seed": seed, "budget": int(budget), "diversity_weight": diversity_weight,
                    "desired_index": goal.index,
                    "evaluations": query.scored, **asdict(searcher), "constraints": asdict(rules)}
        return CounterfactualSet(original, found, pd.DataFrame(chosen != xz, columns=found.columns),
                                 outputs, x_out[0], goal.label, method, scores, settings, reason)

    def _infeasible(self, bounds: Bounds, target: Target, x_out: np.ndarray, rules: Constraints) -> str | None:
        """Why no search is needed or possible, or None."""
        if target.margin(x_out)[0] > 0:
            return f"the model already gives {target.label} for this row"
        if bounds.empty:
            return (f"the constraints leave no allowed value for {list(bounds.empty)} (the row's own value lies "
                    "outside the permitted range, or the monotonic direction points away from it)")
        if not bounds.movable.any():
            fixed = list(rules.resolved_immutable(self.space))
            return f"the constraints fix every feature (immutable: {fixed}; vary: {rules.vary})"
        return None

    def _blocking(self, xz: np.ndarray, target: Target, rules: Constraints, seed: int, method: str,
                  spent: int) -> str:
        """Why the search came back empty: a random probe under the same constraints (the method fell short),
        else which single constraint, relaxed, lets the probe reach the target."""
        head = f"no counterfactual reaches {target.label} under the constraints within {spent} model evaluations"

        def reachable(bounds: Bounds) -> bool:
            probe = Query(bounds, target, self.predictor, 1, DIAGNOSIS_BUDGET)
            RandomSearch().search(probe, np.random.default_rng(seed))
            return len(probe.valid_pool()) > 0

        if reachable(Bounds.resolve(self.space, rules, xz)):
            others = " or ".join(repr(m) for m in ("random", "genetic") if m != method)
            return (f"{head} of the {method} search, but a random search under the same constraints reaches it: "
                    f"raise budget= or try method={others}")
        blockers = [describe(kind, feature) for kind, feature in rules.items(self.space)
                    if reachable(Bounds.resolve(self.space, rules.without(kind, feature), xz))]
        if blockers:
            return f"{head}; relaxing {' or '.join(blockers)} makes it reachable"
        return (f"{head}, and relaxing any single constraint does not reach it within {DIAGNOSIS_BUDGET} either: "
                "it may be unreachable from this row (raise budget= or relax several constraints)")

    def _key(self, target: Target) -> tuple:
        return (target.index, target.low, target.high)

    def _tree(self, target: Target) -> tuple[np.ndarray, KDTree]:
        """Training rows that reach the target and a KD-tree over their embedding (cached per target)."""
        key = self._key(target)
        if key not in self._trees:
            if key not in self._train_margins:
                self._train_margins[key] = target.margin(self.predictor.outputs(self.space.train))
            reached = self.space.train[self._train_margins[key] > 0]
            self._trees[key] = (reached, KDTree(self.space.embed(reached), metric="manhattan"))
        return self._trees[key]

    # ----- metrics -----------------------------------------------------------------------------------
    def plausibility(self) -> Plausibility:
        if self._plausibility is None:
            self._plausibility = Plausibility.fit(self.space)
        return self._plausibility

    @renamed_keywords(desired="target")
    def evaluate(self, x: Any, counterfactuals: pd.DataFrame, target: Any = None,
                 constraints: Constraints | dict | None = None, seconds: float | None = None) -> dict[str, float]:
        """Metrics of counterfactuals from anywhere (a DataFrame with the model's features) for the row ``x``;
        categories unseen in training count against validity, plausibility and actionability, not as errors."""
        xz = self.space.encode(as_row(x), "x")[0]
        if not isinstance(counterfactuals, pd.DataFrame):
            raise InputError(f"counterfactuals must be a DataFrame; got {type(counterfactuals).__name__}.")
        z = self.space.encode(counterfactuals, "counterfactuals", strict=False)
        bounds = Bounds.resolve(self.space, Constraints.of(constraints), xz)
        goal = Target.resolve(target, self.predictor, self.predictor.outputs(xz[None])[0])
        return score_set(self.space, bounds, goal, self.predictor, z, self.plausibility(), seconds)

"""The shared loop of sampled perturbation methods: budgets, ``tolerance=``, batching and exact counting.

A method subclasses ``SampledShapley`` (or ``SampledExplainer``, for a method whose exact answer is not the
Shapley value, such as lime) and provides ``plan`` (the coalitions it needs at a budget) and ``estimate``
(attributions and their variance from the game's values). The base class does the rest, the same way for
every method:
- every example's coalitions go through the model in one batched stream per round (``target_outputs``);
- each example keeps the values it has bought, so a later round (a larger budget) pays only for new coalitions,
  and ``extras["n_evaluations"]`` counts distinct coalitions exactly (the empty one included; the full input's
  value is the prediction pass's);
- a budget that covers all 2^F coalitions gives the exact answer (``extras["exact"]``): the Shapley values by
  enumeration for ``SampledShapley``;
- ``tolerance=e``: rounds at growing budgets (from ``min_samples``) until every attribution's estimated
  standard error is at most e, or ``n_samples`` is spent (``extras["converged"]`` says which);
- extras: ``std_error`` (F,) per feature, ``error`` (its maximum), ``base_value`` = v(empty); NaN where a
  budget below ``smallest_budget`` gave a minimum-norm fit (``underdetermined_ok``), never converged.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..errors import InputError, LumosWarning
from ..params import Float, Int, Optional, param
from .base import Attribution
from .exact_shapley import all_coalitions, shapley_from_values
from .perturbation_base import PerturbationExplainer, target_outputs, to_output_shape


class CoalitionValues:
    """One example's game: v(S) for the coalitions evaluated so far (bool masks (F,)), v(full) given."""

    def __init__(self, n: int, full: float):
        self.n = n
        self.full = full
        self._values: dict[bytes, float] = {}

    @staticmethod
    def _keys(masks: np.ndarray) -> list[bytes]:
        return [row.tobytes() for row in np.packbits(masks, axis=1)]

    @property
    def evaluated(self) -> int:
        return len(self._values)

    def missing(self, masks: np.ndarray) -> np.ndarray:
        """The distinct rows of ``masks`` (M, F) not evaluated yet (the full coalition never is)."""
        seen: set[bytes] = set()
        keep = []
        for i, (key, row) in enumerate(zip(self._keys(masks), masks)):
            if key not in self._values and key not in seen and not row.all():
                seen.add(key)
                keep.append(i)
        return masks[keep]

    def add(self, masks: np.ndarray, values: np.ndarray) -> None:
        for key, v in zip(self._keys(masks), values):
            self._values[key] = float(v)

    def __call__(self, masks: np.ndarray) -> np.ndarray:
        """(M, F) bool -> (M,) values; every mask must have been evaluated (or be the full coalition)."""
        if len(masks) == 0:
            return np.zeros(0)
        full = masks.all(axis=1)
        return np.array([self.full if f else self._values[k] for k, f in zip(self._keys(masks), full)])


@dataclass(frozen=True)
class SampledExplainer(PerturbationExplainer):
    """``n_samples``: model evaluations per example (the cap when ``tolerance`` is set); ``tolerance``: stop at
    the smallest budget whose estimated standard error is at most this for every feature."""

    random = True
    n_samples: int = param(1000, Int(low=2))
    tolerance: float | None = param(None, Optional(Float(low=0, low_open=True)))
    min_samples: ClassVar[int] = 8  # a method's smallest useful budget (raised per method)
    # a budget below ``smallest_budget`` still gives an answer (a minimum-norm regression), with a warning
    underdetermined_ok: ClassVar[bool] = False

    # ----- what a method provides ------------------------------------------------------------------------
    def start(self, n: int, rng: np.random.Generator) -> dict[str, Any]:
        """Per-example state kept between rounds (random streams, designs)."""
        return {"rng": rng}

    def smallest_budget(self, n: int) -> int:
        """The fewest evaluations this method can estimate with, for ``n`` features."""
        return self.min_samples

    def plan(self, state: dict[str, Any], n: int, budget: int) -> np.ndarray:
        """(M, n) bool: the coalitions the estimate at ``budget`` reads (M <= budget; cached ones are free)."""
        raise NotImplementedError

    def estimate(self, state: dict[str, Any], game: CoalitionValues) -> tuple[np.ndarray, np.ndarray]:
        """Attributions (n,) and their estimated variance (n,) from the coalitions of the last ``plan``;
        method-specific extras go in ``state["extras"]``."""
        raise NotImplementedError

    # ----- the shared loop ---------------------------------------------------------------------------------
    def attribute(self, model, batch, targets, probs, seed):
        if self.tolerance is not None and not self.tolerance > 0:
            raise InputError(f"{self.name} needs tolerance > 0 (a standard error); got {self.tolerance}.")
        items = self.items(model, batch, seed)
        full = probs[np.arange(len(targets)), targets]
        games = [CoalitionValues(it.n_features, float(full[i])) for i, it in enumerate(items)]
        for i, it in enumerate(items):
            if self.n_samples < min(self.smallest_budget(it.n_features), 2**it.n_features - 1) \
                    and self.underdetermined_ok:
                warnings.warn(f"{self.name}: n_samples={self.n_samples} is below the {self.smallest_budget(it.n_features)} "
                              f"evaluations that determine the regression for {it.n_features} features (example {i}); "
                              "the answer is the minimum-norm fit, with no error estimate (std_error and error are NaN).",
                              LumosWarning, stacklevel=4)
                break
            if self.n_samples < min(self.smallest_budget(it.n_features), 2**it.n_features - 1):
                raise InputError(f"{self.name} needs n_samples >= {self.smallest_budget(it.n_features)} for "
                                 f"{it.n_features} features (example {i}); got {self.n_samples}.")
        states = [self.start(it.n_features, np.random.default_rng(seed)) for it in items]
        budgets = [self._first_budget(it.n_features) for it in items]
        results: list[tuple[np.ndarray, np.ndarray, bool] | None] = [None] * len(items)
        active = list(range(len(items)))
        while active:
            plans = {i: self._plan(states[i], items[i].n_features, budgets[i]) for i in active}
            need = {i: games[i].missing(np.concatenate([np.zeros((1, items[i].n_features), bool), plans[i]]))
                    for i in active}
            todo = [i for i in active if len(need[i])]
            outs = target_outputs(model, [items[i] for i in todo], [need[i] for i in todo], targets[todo])
            for i, v in zip(todo, outs):
                games[i].add(need[i], v)
            still = []
            for i in active:
                phi, var, exact = self._estimate(states[i], games[i], plans[i])
                if not exact and budgets[i] < self.smallest_budget(items[i].n_features):
                    var = np.full(len(var), np.nan)  # a minimum-norm fit: its spread says nothing of its error
                results[i] = (phi, var, exact)
                err = float(np.sqrt(var.max())) if len(var) else 0.0
                done = exact or self.tolerance is None or err <= self.tolerance or budgets[i] >= self.n_samples
                if not done:
                    budgets[i] = self._next_budget(budgets[i], err)
                    still.append(i)
            active = still
        out = []
        for it, game, state, (phi, var, exact) in zip(items, games, states, results):  # type: ignore[misc]
            se = np.sqrt(np.maximum(var, 0.0))
            extras = {"base_value": float(game(np.zeros((1, it.n_features), bool))[0]),
                      "n_evaluations": game.evaluated, "exact": exact, "std_error": se,
                      "error": float(se.max()) if len(se) else 0.0, **state.get("extras", {})}
            if self.tolerance is not None:
                extras["converged"] = bool(exact or extras["error"] <= self.tolerance)
            out.append(Attribution(to_output_shape(it, phi), extras))
        return out

    def _covers_all(self, n: int, budget: int) -> bool:
        return budget >= 2**n - 1  # every coalition but the full one (the prediction pass has it)

    def _first_budget(self, n: int) -> int:
        if self.tolerance is None:
            return self.n_samples
        return min(self.n_samples, max(self.smallest_budget(n), 4 * n))

    def _next_budget(self, budget: int, err: float) -> int:
        """Standard errors shrink like 1 / sqrt(budget): aim at the tolerance, at least 1.5x, at most 4x."""
        ratio = min(err / self.tolerance, 2.0)  # type: ignore[operator]  # 4x is the most a round grows
        aim = budget * ratio**2 * 1.2
        return int(min(self.n_samples, max(1.5 * budget, min(4 * budget, aim))))

    def _plan(self, state, n: int, budget: int) -> np.ndarray:
        if self._covers_all(n, budget):
            return all_coalitions(n)
        return self.plan(state, n, budget)

    def _estimate(self, state, game: CoalitionValues, plan: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
        if len(plan) == 2**game.n:
            return self.exact(game, plan), np.zeros(game.n), True
        phi, var = self.estimate(state, game)
        return phi, var, False

    def exact(self, game: CoalitionValues, coalitions: np.ndarray) -> np.ndarray:
        """The answer the estimates converge to, from every coalition's value (``all_coalitions`` order)."""
        raise NotImplementedError


@dataclass(frozen=True)
class SampledShapley(SampledExplainer):
    """A sampled estimator of Shapley values: exact by enumeration when the budget covers every coalition."""

    def exact(self, game: CoalitionValues, coalitions: np.ndarray) -> np.ndarray:
        return shapley_from_values(game(coalitions), game.n)

"""Regression-adjusted Monte Carlo Shapley values (Witter, Liu & Musco, "Regression-adjusted Monte Carlo
Estimators for Shapley Values and Probabilistic Values", NeurIPS 2025).

phi = phi(g) + an estimate of phi(v - g): a cheap surrogate g of the game (``shapley_surrogates``: a quadratic
in the players by default, fitted on the logit scale) carries what it can, with Shapley values computed without
the model; only the residual v - g is estimated from the samples, by the Horvitz-Thompson (maximum sample
reuse) form of the Shapley value on coalitions drawn by size stratum in complementary pairs, every size equally
(``coalition_strata``). The better the surrogate, the smaller the residual and its sampling error.

- ``crossfit=0`` (default): g is fitted on every sampled coalition. Consistent, but not exactly unbiased (the
  residuals of the coalitions g was fitted on are smaller than elsewhere); the most accurate at small budgets.
- ``crossfit=K`` (K >= 2): the pairs are split into K folds; for each, g is fitted on the other folds and the
  residual on the held-out fold stands for the stratum's unsampled rest. Unbiased, as in the paper.
Efficiency holds exactly either way (each coalition's weights sum to zero over the players), and the result is
exact when the budget covers all 2^F coalitions. ``extras["std_error"]``: the stratified-sampling variance of
the residual estimate from out-of-fold residuals, plus the variance of sampling the surrogate's values (for
the logit link on more than 16 features).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..params import Choice, Int, param
from ..registry import register
from .coalition_strata import StrataSample, ht_shapley, shapley_weights, unit_contributions
from .shapley_surrogates import LINKS, SURROGATES, Surrogate
from .strata_base import StrataShapley

_VARIANCE_FOLDS = 5


@register("regression_shap")
@dataclass(frozen=True)
class RegressionShap(StrataShapley):
    """``surrogate``: "quadratic", "linear" or "trees"; ``link``: "logit" (fit log-odds; values must be
    probabilities) or "identity"; ``crossfit``: 0, or K >= 2 folds for an unbiased estimate."""

    summary = "Shapley values of a fitted surrogate plus a stratified Monte Carlo estimate of the residual's."
    plain = ("Shapley values (each feature's fair share of the prediction) of a simple model fitted to the model's "
             "outputs, corrected by sampling what the simple model misses.")
    misleads = ("An estimate: with few samples the correction is noisy (extras['std_error']); removed features take a "
                "background.")
    surrogate: str = param("quadratic", Choice(*SURROGATES))
    link: str = param("logit", Choice(*LINKS))
    crossfit: int = param(0, Int(low=0))

    def check_params(self) -> None:
        if self.crossfit == 1:
            raise InputError(f"regression_shap crossfit is 0 (no folds) or K >= 2 folds; got {self.crossfit}.")

    def minimum_per_stratum(self) -> int:
        return max(2, self.crossfit)

    def estimate(self, state, game):
        sample = self.sample(state, game)
        rng = state["rng"]
        if not self.crossfit:
            g = self._fit(sample, None)
            phi_g, var_g = g.shapley(rng)
            held_out = g.held_out()
            if held_out is not None:  # leave-one-out residuals for the variance, in the fit's row order
                _, var = ht_shapley(_from_rows(sample, sample_values(sample) - held_out[2:]))
            else:
                var = self._refit_variance(sample)
            return phi_g + ht_shapley(_residual(sample, g))[0], var + var_g
        k = self.crossfit
        folds = _folds(sample, k)
        fits = [self._fit(sample, fold) for fold in folds]
        residuals = [_residual(sample, g) for g in fits]
        _, var = ht_shapley(_assemble(sample, folds, residuals))
        parts = [_crossfitted(sample, fold, g, r, rng) for fold, g, r in zip(folds, fits, residuals)]
        return np.mean([p for p, _ in parts], axis=0), var + np.mean([v for _, v in parts], axis=0) / k

    def _refit_variance(self, sample: StrataSample) -> np.ndarray:
        """The residual's sampling variance from out-of-fold residuals (surrogates without a closed form)."""
        folds = _folds(sample, _VARIANCE_FOLDS)
        residuals = [_residual(sample, self._fit(sample, fold)) for fold in folds]
        return ht_shapley(_assemble(sample, folds, residuals))[1]

    def _fit(self, sample: StrataSample, leave_out: list[np.ndarray] | None) -> Surrogate:
        """The surrogate on v(empty), v(full) and every sampled coalition outside ``leave_out``."""
        n = sample.n
        z = [np.zeros((1, n), bool), np.ones((1, n), bool)]
        y = [np.array([sample.empty]), np.array([sample.full])]
        for i, (u, a, b) in enumerate(zip(sample.units, sample.first, sample.second)):
            keep = np.ones(len(u), bool) if leave_out is None else ~leave_out[i]
            z += [u[keep], ~u[keep]]
            y += [a[keep], b[keep]]
        return Surrogate(self.surrogate, self.link, np.concatenate(z), np.concatenate(y))



def _crossfitted(sample: StrataSample, fold: list[np.ndarray], g: Surrogate, resid: StrataSample,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One fold's unbiased estimate: g was fitted without the fold, so given the other folds the fold is a
    uniform draw from the rest of each stratum and its residuals stand for that rest. Also returns the
    variance of sampling g's Shapley values."""
    phi_g, var_g = g.shapley(rng)
    w_in, w_out = shapley_weights(sample.n)
    phi = phi_g + (resid.full - resid.empty) / sample.n
    for pop, u, a, b, f in zip(sample.population, resid.units, resid.first, resid.second, fold):
        if len(u) == 0:
            continue
        y = unit_contributions(u, a, b, w_in, w_out)
        phi += y[~f].sum(0)
        if f.any():
            phi += (pop - (~f).sum()) / f.sum() * y[f].sum(0)
    return phi, var_g


def _folds(sample: StrataSample, k: int) -> list[list[np.ndarray]]:
    """Fold f holds every k-th unit of each stratum (the streams are in random order)."""
    return [[np.arange(len(u)) % k == f for u in sample.units] for f in range(k)]


def sample_values(sample: StrataSample) -> np.ndarray:
    """Every sampled coalition's value, in the order ``RegressionShap._fit`` stacks them (after empty, full)."""
    return np.concatenate([np.concatenate([a, b]) for a, b in zip(sample.first, sample.second)] or [np.zeros(0)])


def _from_rows(sample: StrataSample, rows: np.ndarray) -> StrataSample:
    """A sample whose values are ``rows`` (stacked as in ``sample_values``)."""
    first, second, lo = [], [], 0
    for u in sample.units:
        k = len(u)
        first.append(rows[lo:lo + k])
        second.append(rows[lo + k:lo + 2 * k])
        lo += 2 * k
    return StrataSample(sample.n, sample.sizes, sample.population, sample.units, first, second, 0.0, 0.0)


def _residual(sample: StrataSample, g: Surrogate) -> StrataSample:
    n = sample.n
    ends = g.predict(np.array([np.zeros(n, bool), np.ones(n, bool)]))
    return StrataSample(n, sample.sizes, sample.population, sample.units,
                        [a - g.predict(u) if len(u) else a for u, a in zip(sample.units, sample.first)],
                        [b - g.predict(~u) if len(u) else b for u, b in zip(sample.units, sample.second)],
                        sample.empty - ends[0], sample.full - ends[1])


def _assemble(sample: StrataSample, folds: list[list[np.ndarray]], residuals: list[StrataSample]) -> StrataSample:
    """Each unit's residual from the surrogate that did not see it."""
    first = [np.zeros(len(u)) for u in sample.units]
    second = [np.zeros(len(u)) for u in sample.units]
    for fold, r in zip(folds, residuals):
        for i, f in enumerate(fold):
            first[i][f] = r.first[i][f]
            second[i][f] = r.second[i][f]
    return StrataSample(sample.n, sample.sizes, sample.population, sample.units, first, second, 0.0, 0.0)

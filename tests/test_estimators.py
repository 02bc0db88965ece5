"""The sampled Shapley and LIME estimators against known answers: exact at full budget, efficiency,
unbiasedness over a fixed list of seeds, calibrated error estimates, ``tolerance=``, exact counting."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.tree import DecisionTreeRegressor

import lumos
from lumos.errors import InputError, LumosWarning
from lumos.explainers.coalition_strata import strata_design
from lumos.explainers.exact_shapley import all_coalitions, shapley_from_values
from lumos.explainers.lime import kernel_draws, lime_masks, solve_normal
from lumos.explainers.shapley_surrogates import Surrogate, tree_shapley

SHAPLEY = ["kernel_shap", "leverage_shap", "regression_shap", "permutation_shap", "stratified_shap"]


class TableGame:
    """A classifier whose p(class 1) on a row z in {0, 1}^n (background 0, input 1) is a fixed table of 2^n
    values: every coalition's value is known, so are the exact Shapley values."""

    def __init__(self, n: int, seed: int, low: float = 0.05, high: float = 0.95):
        self.n = n
        self.values = np.random.default_rng(seed).uniform(low, high, 2**n)
        self.rows = 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        self.rows += len(x)
        p = self.values[(x > 0.5).astype(np.int64) @ (1 << np.arange(self.n))]
        return np.stack([1 - p, p], axis=1)

    @property
    def shapley(self) -> np.ndarray:
        return shapley_from_values(self.values, self.n)


def explain(game: TableGame, method: str, seed: int = 0, **params) -> lumos.Explanation:
    return lumos.explain(game, np.ones((1, game.n)), method, target=1, background=np.zeros((1, game.n)),
                         seed=seed, batch_size=4096, **params)[0]


def smooth_game(n: int, seed: int, noise: float = 0.0) -> TableGame:
    """A logistic model with pairwise interactions, as a table (values a classifier would give); ``noise``
    adds higher-order interactions on the logit scale."""
    rng = np.random.default_rng(seed)
    z = all_coalitions(n).astype(float)
    w, a = rng.normal(size=n), np.triu(rng.normal(scale=0.5, size=(n, n)), 1)
    game = TableGame(n, seed)
    logit = z @ w + np.einsum("ij,jk,ik->i", z, a, z) - w.sum() / 2 + rng.normal(scale=noise, size=len(z))
    game.values = 1 / (1 + np.exp(-logit))
    return game


@pytest.mark.parametrize("method", SHAPLEY)
def test_exact_when_the_budget_covers_every_coalition(method):
    game = TableGame(5, seed=1)
    e = explain(game, method, n_samples=2**5 - 1)
    assert e.extras["exact"] and e.extras["error"] == 0.0 and e.extras["n_evaluations"] == 2**5 - 1
    np.testing.assert_allclose(e.attributions, game.shapley, atol=1e-6)


@pytest.mark.parametrize("method,params", [(m, {}) for m in SHAPLEY] + [("regression_shap", {"crossfit": 3}),
                                            ("regression_shap", {"surrogate": "trees", "link": "identity"})])
def test_efficiency_holds_exactly_below_full_budget(method, params):
    game = TableGame(9, seed=2)
    e = explain(game, method, n_samples=200, **params)
    assert not e.extras["exact"] and e.extras["n_evaluations"] <= 200
    gap = game.values[-1] - game.values[0]
    assert e.attributions.sum(dtype=np.float64) == pytest.approx(gap, abs=1e-5)


@pytest.mark.parametrize("method,params,budget", [
    ("permutation_shap", {}, 40), ("permutation_shap", {"antithetic": False}, 40),
    ("stratified_shap", {}, 61), ("regression_shap", {"crossfit": 2, "surrogate": "linear"}, 40)])
def test_unbiased_over_a_fixed_list_of_seeds(method, params, budget):
    """The mean over 150 seeds is within 4 standard errors of the exact values, for every player."""
    game = TableGame(6, seed=3)
    runs = np.array([explain(game, method, seed=s, n_samples=budget, **params).attributions for s in range(150)])
    assert not np.allclose(runs[0], runs[1])  # it is random
    z = (runs.mean(0) - game.shapley) / (runs.std(0, ddof=1) / np.sqrt(len(runs)))
    assert np.abs(z).max() < 4, z


@pytest.mark.parametrize("method,n,budget", [("kernel_shap", 8, 120), ("leverage_shap", 8, 120),
                                             ("regression_shap", 8, 120), ("permutation_shap", 8, 120),
                                             ("stratified_shap", 10, 400)])
def test_error_estimates_are_calibrated(method, n, budget):
    """Over 4 games x 15 seeds, the true error is within 1.96 estimated standard errors for about 95% of the
    attributions, and the estimate is neither far too small nor far too large."""
    inside, ratio = [], []
    for g in range(4):
        game = smooth_game(n, seed=g, noise=0.5)
        runs = [explain(game, method, seed=s, n_samples=budget) for s in range(15)]
        err = np.array([e.attributions - game.shapley for e in runs])
        se = np.array([e.extras["std_error"] for e in runs])
        inside.append(np.abs(err) <= 1.96 * se)
        ratio.append(np.sqrt((se**2).mean()) / np.sqrt((err**2).mean()))
    assert np.mean(inside) >= 0.85, np.mean(inside)
    assert 0.6 <= np.median(ratio) <= 2.0, ratio


@pytest.mark.parametrize("method", SHAPLEY + ["lime"])
def test_tolerance_gives_the_cheapest_budget_below_it(method):
    game = smooth_game(12, seed=5, noise=0.5)
    loose, tight = (explain(game, method, n_samples=4000, tolerance=t) for t in (0.04, 0.015))
    for e, t in ((loose, 0.04), (tight, 0.015)):
        assert e.extras["converged"] and e.extras["error"] <= t and not e.extras["exact"]
    assert loose.extras["n_evaluations"] < tight.extras["n_evaluations"] <= 4000
    capped = explain(game, method, n_samples=300, tolerance=1e-6)
    assert not capped.extras["converged"] and capped.extras["n_evaluations"] <= 300


@pytest.mark.parametrize("method", SHAPLEY + ["lime"])
def test_evaluations_are_counted_exactly_and_batched(method):
    """Table rows: each coalition costs one model row per background row, and all examples share the calls."""
    rng = np.random.default_rng(0)
    w = rng.normal(size=7)
    calls = []

    def model(x):
        calls.append(len(x))
        p = 1 / (1 + np.exp(-(np.asarray(x) @ w)))
        return np.stack([1 - p, p], axis=1)

    x, background = rng.normal(size=(4, 7)), rng.normal(size=(3, 7))
    wrapped = lumos.wrap(model, batch_size=100_000)
    expl = lumos.explain(wrapped, x, method, background=background, n_samples=100)
    evaluations = [e.extras["n_evaluations"] for e in expl]
    assert all(e <= 100 for e in evaluations)
    assert wrapped.counts.rows == sum(calls) == 4 + 3 * sum(evaluations)
    chunks = calls[1:]  # after the prediction pass, every example's coalitions in one stream of full chunks
    assert len(chunks) == -(-sum(chunks) // max(chunks)) and set(chunks[:-1]) <= {max(chunks)}


def test_bad_parameters_are_refused_with_the_fix():
    game = TableGame(12, seed=0)
    with pytest.raises(InputError, match=r"stratified_shap needs n_samples >= 265 for 12 features"):
        explain(game, "stratified_shap", n_samples=200)
    with pytest.raises(InputError, match="tolerance must be None or a finite number > 0"):
        explain(game, "leverage_shap", tolerance=0)
    with pytest.raises(InputError, match="surrogate must be one of|surrogate must be"):
        explain(game, "regression_shap", surrogate="forest")
    with pytest.raises(InputError, match="sampling must be one of|sampling must be"):
        explain(game, "lime", sampling="sobol")



def two_word_model(texts):
    """p(class 1) = 0.2 + 0.3 per word of "w7" and "w42" present: Shapley values 0.3 for each, 0 elsewhere."""
    p = [0.2 + 0.3 * sum(w in t.split() for w in ("w7", "w42")) for t in texts]
    return np.stack([1 - np.array(p), np.array(p)], axis=1)


@pytest.mark.parametrize("method", ["kernel_shap", "leverage_shap"])
def test_hundred_words_below_and_above_the_regressions_size(method):
    """100 players: the strata's populations (C(100, 50) > 2^63) do not overflow; a budget below the 101
    evaluations that determine the regression still answers (minimum-norm fit, efficient) with a warning and
    NaN errors, and never reports convergence."""
    text = " ".join(f"w{i}" for i in range(100))
    with pytest.warns(LumosWarning, match=r"n_samples=64 is below the 101 evaluations"):
        low = lumos.explain(two_word_model, [text], method, n_samples=64, target=1)[0]
    assert low.extras["n_evaluations"] <= 64 and np.isnan(low.extras["error"])
    assert low.attributions.sum(dtype=np.float64) == pytest.approx(0.6, abs=1e-5)
    with pytest.warns(LumosWarning):
        capped = lumos.explain(two_word_model, [text], method, n_samples=64, tolerance=0.01, target=1)[0]
    assert not capped.extras["converged"]
    e = lumos.explain(two_word_model, [text], method, n_samples=400, target=1)[0]
    assert np.isfinite(e.extras["error"]) and e.extras["n_evaluations"] <= 400
    expected = np.zeros(100)
    expected[[7, 42]] = 0.3
    np.testing.assert_allclose(e.attributions, expected, atol=1e-4)  # additive: the regression is exact


@pytest.mark.parametrize("n", [66, 67, 100, 200])
def test_strata_design_spends_the_budget_on_many_players(n):
    sizes, population, units = strata_design(n, 300, "kernel", np.random.default_rng(0), 2)
    assert sum(len(u) for u in units) == 300 and population[0] == n
    assert all(u.shape[1] == n and np.all(u.sum(1) == s) for s, u in zip(sizes, units))

# ----- surrogates: closed-form Shapley values against enumeration -------------------------------------------
def test_tree_and_polynomial_surrogates_have_exact_shapley_values():
    n = 7
    z = all_coalitions(n)
    y = np.random.default_rng(0).normal(size=len(z))
    tree = DecisionTreeRegressor(max_depth=4, random_state=0).fit(z.astype(float), y)
    np.testing.assert_allclose(tree_shapley(tree.tree_, n), shapley_from_values(tree.predict(z.astype(float)), n),
                               atol=1e-10)
    for kind in ("linear", "quadratic", "trees"):
        g = Surrogate(kind, "identity", z[::3], y[::3])
        np.testing.assert_allclose(g.shapley(np.random.default_rng(0))[0], shapley_from_values(g.predict(z), n),
                                   atol=1e-8)


def test_logit_surrogate_sampled_values_agree_with_enumeration(monkeypatch):
    n = 9
    z = all_coalitions(n)
    game = smooth_game(n, seed=1)
    g = Surrogate("quadratic", "logit", z[::2], game.values[::2])
    exact = shapley_from_values(g.predict(z), n)
    monkeypatch.setattr("lumos.explainers.shapley_surrogates.ENUMERATE_UP_TO", 4)
    phi, var = g.shapley(np.random.default_rng(0))
    assert np.all(var > 0)
    # z[::2] never holds player 0, so its value is 0 up to rounding (1e-17): no z-score there
    assert np.all(np.abs(phi - exact) <= 4 * np.sqrt(var) + 1e-12), (phi - exact) / np.sqrt(var)


@pytest.mark.parametrize("kind", ["linear", "quadratic"])
def test_polynomial_values_built_along_an_order_equal_its_predictions(kind):
    """The O(n^2) walk along a permutation (used when the surrogate's Shapley values are sampled) gives the
    values ``predict`` gives on the order's prefixes."""
    n, rng = 9, np.random.default_rng(4)
    z = rng.random((60, n)) < 0.5
    g = Surrogate(kind, "identity", z, rng.normal(size=60))
    perms = np.array([rng.permutation(n) for _ in range(5)])
    prefixes = np.argsort(perms, axis=1)[:, None, :] < np.arange(n + 1)[None, :, None]
    np.testing.assert_allclose(g.inner.prefix_values(perms),
                               g.predict(prefixes.reshape(-1, n)).reshape(5, n + 1), atol=1e-10)

# ----- LIME --------------------------------------------------------------------------------------------
def test_antithetic_lime_masks_remove_disjoint_sets_from_one_order():
    masks = lime_masks(10, 400, np.random.default_rng(0), antithetic=True)
    first, second = ~masks[0::2], ~masks[1::2]
    assert np.array_equal(first.sum(1), second.sum(1))  # the same number removed
    small = first.sum(1) <= 5
    assert not (first & second)[small].any()  # disjoint whenever they can be
    assert abs(masks.mean() - lime_masks(10, 400, np.random.default_rng(1)).mean()) < 0.03


def test_lime_at_full_budget_is_the_expected_objective_solved_exactly():
    game = TableGame(4, seed=4)
    e = explain(game, "lime", n_samples=15)
    z = all_coalitions(4)
    removed = 4 - z.sum(1)
    weight = np.array([1.0 if r == 0 else 14 / (4 * comb(4, r)) for r in removed])
    weight *= np.sqrt(np.exp(-((1 - np.sqrt(z.sum(1) / 4)) ** 2) / 0.25**2))
    ref = Ridge(alpha=0.01).fit(z.astype(float), game.values, sample_weight=weight).coef_
    assert e.extras["exact"]
    np.testing.assert_allclose(e.attributions, ref, atol=1e-6)


def lime_objective(game: TableGame, budget: int, width: float = 0.25, alpha: float = 0.01) -> np.ndarray:
    """The weighted ridge every lime sampling estimates: all 2^n masks, each with its expected weight at
    ``budget`` (lime's uniform count, then a uniform subset), fitted by sklearn."""
    n = game.n
    z = all_coalitions(n)
    removed = n - z.sum(1)
    chance = np.array([1.0 if r == 0 else (budget - 1) / (n * comb(n, int(r))) for r in removed])
    weight = chance * np.sqrt(np.exp(-((1 - np.sqrt(z.sum(1) / n)) ** 2) / width**2))
    return Ridge(alpha=alpha).fit(z.astype(float), game.values, sample_weight=weight).coef_


def test_kernel_draws_worked_by_hand():
    kernel = np.sqrt(np.exp(-((1 - np.sqrt(np.array([3, 2, 1, 0]) / 4)) ** 2) / 0.25**2))  # removing 1..4 of 4
    probs, weight = kernel_draws(4, 0.25)
    np.testing.assert_allclose(probs, kernel / kernel.sum())
    np.testing.assert_allclose(weight, [1.0] + [kernel.sum() / 4] * 4)  # every drawn mask weighs the same
    probs, weight = kernel_draws(4, 1e9)  # a flat kernel: lime's uniform count, weight 1
    np.testing.assert_allclose(probs, 0.25)
    np.testing.assert_allclose(weight, 1.0)
    probs, weight = kernel_draws(4, 1e-200)  # the kernel is 0 beyond distance 0: uniform draws weighing 0
    np.testing.assert_allclose(probs, 0.25)
    np.testing.assert_allclose(weight, [1.0, 0, 0, 0, 0])


def test_lime_kernel_draws_counts_in_proportion_to_the_kernel():
    probs = kernel_draws(10, 0.25)[0]
    masks = lime_masks(10, 40_000, np.random.default_rng(0), antithetic=True, remove_probs=probs)
    seen = np.bincount(10 - masks.sum(1), minlength=11)[1:] / len(masks)
    np.testing.assert_allclose(seen, probs, atol=0.01)
    first, second = ~masks[0::2], ~masks[1::2]
    assert np.array_equal(first.sum(1), second.sum(1))  # still antithetic pairs


def lime_runs(game: TableGame, budget: int, seeds: int = 40) -> dict[str, np.ndarray]:
    return {s: np.array([explain(game, "lime", seed=k, n_samples=budget, sampling=s).attributions
                         for k in range(seeds)]) for s in ("random", "antithetic", "kernel")}


def test_lime_samplings_estimate_the_same_objective():
    """Every sampling's mean over seeds is lime's expected objective at the budget (up to the ridge's
    finite-sample bias, small at 120 masks for 8 features)."""
    game = smooth_game(8, seed=5)
    target = lime_objective(game, 120)
    for s, r in lime_runs(game, 120).items():
        assert np.abs(r.mean(0) - target).max() < 0.08 * np.abs(target).max(), s


def test_lime_kernel_draws_err_least_at_a_small_budget():
    """40 masks for 10 features: the kernel draws are closest to the objective seed by seed (measured: 21% less
    error than either other sampling)."""
    game = smooth_game(10, seed=5)
    target = lime_objective(game, 40)
    error = {s: np.linalg.norm(r - target, axis=1).mean() for s, r in lime_runs(game, 40).items()}
    assert error["kernel"] < 0.9 * min(error["random"], error["antithetic"]), error


@pytest.mark.parametrize("variance", ["bootstrap", "linearised"])
def test_lime_antithetic_has_less_variance_and_a_calibrated_bootstrap(variance, monkeypatch):
    if variance == "linearised":  # what texts of more than 64 words get
        monkeypatch.setattr("lumos.explainers.lime.BOOTSTRAP_UP_TO", 0)
    game = smooth_game(8, seed=2)
    runs = {s: [explain(game, "lime", seed=k, n_samples=200, sampling=s) for k in range(20)]
            for s in ("random", "antithetic", "kernel")}
    spread = {s: np.array([e.attributions for e in r]).std(0).mean() for s, r in runs.items()}
    assert spread["kernel"] < spread["antithetic"] < spread["random"]
    for s, r in runs.items():
        se = np.mean([e.extras["std_error"].mean() for e in r])
        assert 0.6 <= se / spread[s] <= 1.6, (s, se, spread[s])


def test_ridge_normal_solve_through_the_dual_equals_the_direct_one():
    rng = np.random.default_rng(0)
    xc, w, rhs = rng.normal(size=(30, 80)), rng.uniform(0, 1, 30), rng.normal(size=(80, 3))
    direct = np.linalg.solve(xc.T @ (xc * w[:, None]) + 0.01 * np.eye(80), rhs)
    np.testing.assert_allclose(solve_normal(xc, w, 0.01, rhs), direct, rtol=1e-6, atol=1e-8)


def test_lime_on_a_long_text_finds_the_word_with_finite_errors_and_a_tiny_width():
    """300 words: the linearised variance (no 100 refits of 300 x 300 systems), and a kernel width so small that
    every perturbed mask weighs 0 gives zeros, not NaN (0 / 0)."""
    words = ["hay"] * 300
    words[123] = "needle"

    def needle(texts):
        return np.array([[0.2, 0.8] if " needle " in f" {t} " else [0.5, 0.5] for t in texts])

    e = lumos.explain(needle, [" ".join(words)], "lime", n_samples=400, target=1)[0]
    assert int(np.argmax(e.attributions)) == 123 and np.all(np.isfinite(e.extras["std_error"]))
    tiny = lumos.explain(needle, [" ".join(words)], "lime", n_samples=50, kernel_width=1e-200, target=1)[0]
    assert np.all(np.isfinite(tiny.attributions))

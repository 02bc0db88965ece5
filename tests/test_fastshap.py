"""FastSHAP (lumos.amortised): learns the known Shapley values of a model, holds efficiency exactly, and costs
one model row per explained example."""

from __future__ import annotations

import numpy as np
import pytest

import lumos
from lumos.amortised import fit_fastshap
from lumos.errors import UnsupportedError

W = np.array([2.0, -1.0, 0.5, 0.0, 1.5])


def linear_probability(x):
    """p(class 1) = 0.5 + 0.08 w.x: linear, so the Shapley value of column j is 0.08 w_j (x_j - mean of the
    background's column j)."""
    p = 0.5 + 0.08 * np.asarray(x, dtype=np.float64) @ W
    return np.stack([1 - p, p], axis=1)


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    train, background = rng.uniform(-1, 1, (400, 5)), rng.uniform(-1, 1, (30, 5))
    model = lumos.wrap(linear_probability)
    return model, background, fit_fastshap(model, train, background=background, n_coalitions=32, epochs=30, seed=0)


def test_fastshap_learns_the_shapley_values_of_a_linear_model(fitted):
    model, background, fs = fitted
    x = np.random.default_rng(1).uniform(-1, 1, (20, 5))
    expl = lumos.explain(model, x, "fastshap", explainer=fs, target=1)
    exact = 0.08 * W * (x - background.mean(0))
    got = np.stack([e.attributions for e in expl])
    assert np.abs(got - exact).max() < 0.05 * np.abs(exact).max()
    assert fs.info["model_rows"] == 400 * 33 * 30 + 400 and fs.info["validation_loss"] < 1e-4


def test_fastshap_is_efficient_and_costs_the_prediction_pass_only(fitted):
    model, background, fs = fitted
    x = np.random.default_rng(2).uniform(-1, 1, (7, 5))
    model.reset_counts()
    expl = lumos.explain(model, x, "fastshap", explainer=fs)
    assert model.counts.rows == 7
    empty = linear_probability(background).mean(0)
    for e in expl:
        assert e.attributions.sum(dtype=np.float64) == pytest.approx(e.probs[e.target] - empty[e.target], abs=1e-5)
        assert e.extras["amortised"] and e.extras["n_evaluations"] == 0


def test_fastshap_fits_once_per_model_and_rows_when_given_no_explainer():
    rng = np.random.default_rng(3)
    model, background = lumos.wrap(linear_probability), rng.uniform(-1, 1, (40, 5))
    a = lumos.explain(model, rng.uniform(-1, 1, (3, 5)), "fastshap", background=background, epochs=5)
    spent = model.counts.rows
    b = lumos.explain(model, rng.uniform(-1, 1, (3, 5)), "fastshap", background=background, epochs=5)
    assert model.counts.rows - spent == 3 and len(a) == len(b) == 3


def test_fastshap_explains_tables_only():
    with pytest.raises(UnsupportedError, match="explains tables"):
        fit_fastshap(lambda t: np.full((len(t), 2), 0.5), ["a film"] * 12, background=None)

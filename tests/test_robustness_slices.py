"""Slices: interval and calibration arithmetic by hand, planted weak spots found."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import lumos
from lumos.robustness import category, contains, feature_range, length, slices
from lumos.robustness.slices import ece, wilson


def test_wilson_interval_and_ece_by_hand():
    lo, hi = wilson(50, 100)
    assert (lo, hi) == pytest.approx((0.4038, 0.5962), abs=1e-4)
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
    labels = np.array([0, 1, 1, 1])
    # bins: 0.9 -> [0.9, 1): acc 1, conf .9; 0.8: acc 0, conf .8; 0.7: acc 1; 0.6: acc 1
    assert ece(probs, labels) == pytest.approx((0.1 + 0.8 + 0.3 + 0.4) / 4)


def test_rule_slices_on_texts_match_a_hand_count():
    texts = ["not good", "good film", "a very long and not very good film indeed", "bad", "not bad at all"]
    labels = [0, 1, 0, 0, 1]
    model = lumos.wrap(lambda ts: np.array([[0.2, 0.8] if "good" in t else [0.7, 0.3] for t in ts]))
    report = slices(model, texts, labels, rules=[contains("not"), length(0, 2)], discover=False)
    assert report.overall_accuracy == pytest.approx(2 / 5)
    not_slice, short = report.slices
    assert not_slice.size == 3 and not_slice.accuracy == 0.0 and not_slice.difference == pytest.approx(-0.4)
    assert short.size == 3 and short.accuracy == pytest.approx(2 / 3)  # "not good" wrong, "good film", "bad" right
    assert short.accuracy_ci == pytest.approx(wilson(2, 3))
    assert short.difference_ci == pytest.approx(np.array(wilson(2, 3)) - 0.4)


def test_the_worst_feature_pair_is_the_planted_one():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"colour": rng.choice(["red", "blue"], 400), "size": rng.choice(["S", "M", "L"], 400),
                          "age": rng.integers(18, 80, 400)})
    labels = rng.integers(0, 2, 400)
    wrong = (frame.colour == "red").to_numpy() & (frame["size"] == "L").to_numpy()
    probs = np.where((labels == 1) ^ wrong, 0.8, 0.2)
    probs = np.stack([1 - probs, probs], 1)
    report = slices(None, frame, labels, rules=[category("colour", "red"), feature_range("age", 18, 30)],
                    probs=probs, top=3, min_size=20)
    worst = report.worst(1)[0]
    assert worst.name == "colour = red & size = L" and worst.accuracy == 0.0 and worst.size == wrong.sum()
    red = report.slices[0]
    assert red.size == (frame.colour == "red").sum() and red.source == "rule"


def test_error_clusters_find_a_far_away_group_of_errors():
    rng = np.random.default_rng(1)
    emb = rng.normal(size=(200, 5))
    emb[:30] += 20.0  # a distant group, every member misclassified
    labels = np.zeros(200, dtype=int)
    probs = np.tile([0.9, 0.1], (200, 1))
    probs[:30] = [0.1, 0.9]
    probs[100:105] = [0.1, 0.9]  # a few scattered errors elsewhere
    report = slices(None, [f"t{i}" for i in range(200)], labels, rules=[], embeddings=emb, probs=probs,
                    n_clusters=2, min_size=10)
    found = [s for s in report.slices if s.source == "discovered"]
    group = min(found, key=lambda s: s.accuracy)
    assert group.size == 30 and group.accuracy == 0.0


def test_wilson_and_bootstrap_come_from_scipy_and_match_the_formulas():
    """The intervals are scipy.stats' (binomtest(...).proportion_ci, bootstrap); they agree with the Wilson
    formula and a percentile bootstrap written out by hand over the same resamples."""
    from scipy.stats import norm

    from lumos.robustness.slices import ece, ece_interval, wilson

    for k, n in [(0, 5), (3, 10), (7, 20), (20, 20), (1, 1)]:
        z, p = norm.ppf(0.975), k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        assert wilson(k, n) == pytest.approx((centre - half, centre + half), abs=1e-12)
    assert all(np.isnan(wilson(0, 0)))
    rng = np.random.default_rng(0)
    probs, labels = rng.dirichlet([1, 1, 1], size=40), rng.integers(0, 3, 40)
    draws = np.random.default_rng(7).integers(40, size=(200, 40))
    boots = [ece(probs[i], labels[i]) for i in draws]
    assert ece_interval(probs, labels, seed=7) == pytest.approx((np.quantile(boots, 0.025),
                                                                np.quantile(boots, 0.975)), abs=1e-12)
    assert ece_interval(probs[:1], labels[:1]) == (ece(probs[:1], labels[:1]),) * 2

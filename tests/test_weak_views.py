"""Cross-fitted view LFs: every vote comes from a model that never saw the row's label."""

from __future__ import annotations

import numpy as np
import pytest

from lumos.errors import InputError
from lumos.weak import WeakLabels, cross_fitted_votes


def weak_labels(probs: np.ndarray, keep: np.ndarray | None = None) -> WeakLabels:
    n, K = probs.shape
    keep = np.ones(n, dtype=bool) if keep is None else keep
    return WeakLabels(probs, keep.copy(), keep, np.full(1, np.nan), np.full(K, 1 / K), ["lf0"],
                      [str(k) for k in range(K)])


def test_votes_are_out_of_fold():
    """Features that only identify the row (one-hot ids) let an in-sample model repeat every label; out of
    fold they say nothing: each held-out row gets the fold model's prior, which never leads by 0.3."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    train, _ = cross_fitted_votes(np.eye(200), weak_labels(np.eye(2)[y]), margins=(0.0, 0.3), C=100.0)
    assert train.lf_names == ["view_0", "view_0.3"] and train.kinds["view_0"] == "view"
    assert 0.35 < np.mean(train.L[:, 0] == y) < 0.65
    assert np.all(train.L[:, 1] == -1)


def test_a_view_generalises_past_random_label_noise():
    """Labels 75% accurate (flipped at random) on a class that is linear in the view: out-of-fold votes are
    right on more than 95% of the rows, and a larger margin votes less often but more accurately."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2000, 2))
    y = (x[:, 0] > 0).astype(int)
    noisy = np.where(rng.random(2000) < 0.25, 1 - y, y)
    train, dev = cross_fitted_votes(x, weak_labels(np.eye(2)[noisy]), dev_features=x[:500], margins=(0.0, 0.6))
    assert np.mean(train.L[:, 0] == y) > 0.95
    covered = train.L[:, 1] >= 0
    assert covered.mean() < 1 and np.mean(train.L[covered, 1] == y[covered]) > np.mean(train.L[:, 0] == y)
    assert dev is not None and np.mean(dev.L[:, 0] == y[:500]) > 0.9


def test_rows_not_kept_teach_nothing():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(300, 3))
    y = rng.integers(0, 3, 300)
    keep = np.arange(300) % 2 == 0
    probs = np.eye(3)[y]
    other = probs.copy()
    other[~keep] = np.eye(3)[(y[~keep] + 1) % 3]  # the rows left out carry other labels: no effect
    a, _ = cross_fitted_votes(x, weak_labels(probs, keep), margins=(0.0,))
    b, _ = cross_fitted_votes(x, weak_labels(other, keep), margins=(0.0,))
    assert np.array_equal(a.L, b.L) and set(np.unique(a.L)) <= {-1, 0, 1, 2}


def test_bad_inputs_are_named():
    labels = weak_labels(np.eye(2)[np.arange(10) % 2])
    with pytest.raises(InputError, match="features has 9 rows"):
        cross_fitted_votes(np.zeros((9, 2)), labels)
    with pytest.raises(InputError, match="folds must be at least 2"):
        cross_fitted_votes(np.zeros((10, 2)), labels, folds=1)

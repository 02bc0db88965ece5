"""Cross-fitted view LFs: a classifier on another view of the data (TF-IDF, sentence embeddings...) trained on
the weak labels, whose out-of-fold votes join the label matrix (co-training; Blum & Mitchell 1998)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression

from ..errors import InputError
from .base import WeakLabels
from .matrix import LabelMatrix


def _soft_fit(X: Any, probs: np.ndarray, C: float) -> LogisticRegression:
    """Logistic regression on (n, K) probabilistic labels: each row once per class, weighted by its probability."""
    n, K = probs.shape
    index, classes, weights = np.tile(np.arange(n), K), np.repeat(np.arange(K), n), probs.T.reshape(-1)
    used = weights > 0
    return LogisticRegression(C=C, max_iter=3000).fit(X[index[used]], classes[used], sample_weight=weights[used])


def _votes(probs: np.ndarray, margins: Sequence[float]) -> np.ndarray:
    """(n, K) probabilities -> (n, len(margins)) votes: the top class where it leads the runner-up by more than
    the margin, else -1."""
    top = np.sort(probs, axis=1)
    lead, best = top[:, -1] - top[:, -2], probs.argmax(1)
    return np.stack([np.where(lead > m, best, -1) for m in margins], axis=1).astype(np.int64)


def _full_probs(model: LogisticRegression, X: Any, K: int) -> np.ndarray:
    out = np.zeros((X.shape[0], K))
    out[:, model.classes_] = model.predict_proba(X)
    return out


def cross_fitted_votes(features: Any, labels: WeakLabels, *, dev_features: Any = None,
                       margins: Sequence[float] = (0.0, 0.3, 0.6), folds: int = 5, C: float = 1.0, seed: int = 0,
                       name: str = "view") -> tuple[LabelMatrix, LabelMatrix | None]:
    """(train, dev) label matrices of a view LF per margin (named ``{name}_{margin}``).

    features: (N, D) array or sparse matrix of the rows ``labels`` labelled (another view than the one the LFs
    read). A logistic regression (L2 strength 1 / ``C``) is trained on the kept rows' probabilistic labels;
    each row's vote comes from the model fitted without its fold (``folds``, seeded), so no row votes with a
    model that saw its own label, and the votes carry what the view generalises, not the labels' own errors.
    A vote is the most probable class where it leads the runner-up by more than the margin; several margins
    give a binned confidence that a label model weighing correlated LFs (``stacked``) can use. dev_features:
    (n, D) the dev rows, voted on by the model fitted on every kept row (None: no dev matrix).
    """
    probs = np.asarray(labels.probs, dtype=np.float64)
    N, K = probs.shape
    if features.shape[0] != N:
        raise InputError(f"cross_fitted_votes: features has {features.shape[0]} rows; the labels have {N}.")
    if folds < 2 or int(labels.keep.sum()) < folds:
        raise InputError(f"cross_fitted_votes: folds must be at least 2 and at most the {int(labels.keep.sum())} kept "
                         f"rows; got {folds}.")
    fold = np.random.default_rng(seed).permutation(N) % folds
    out = np.zeros((N, K))
    for f in range(folds):
        train = np.flatnonzero(labels.keep & (fold != f))
        held = np.flatnonzero(fold == f)
        out[held] = _full_probs(_soft_fit(features[train], probs[train], C), features[held], K)
    names = [f"{name}_{m:g}" for m in margins]

    def matrix(votes: np.ndarray) -> LabelMatrix:
        return LabelMatrix(votes, names, list(labels.classes), kinds={n: "view" for n in names})

    dev = None
    if dev_features is not None:
        kept = np.flatnonzero(labels.keep)
        dev = matrix(_votes(_full_probs(_soft_fit(features[kept], probs[kept], C), dev_features, K), margins))
    return matrix(_votes(out, margins)), dev

"""Influence concentration: which candidate features the training examples that drive the model's predictions
share. Influence scores come from ``lumos.influence``; a TF-IDF + logistic regression pipeline is handed to it
as the equivalent logistic regression on the TF-IDF columns the sampled rows use."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from scipy.stats import norm

from ..errors import InputError
from ..models import wrap
from .attributions import sample_rows
from .data import Labelled, labelled
from .features import candidate_features
from .result import Candidate, Findings


def _linear_text(model: Any, train_texts: list[str], test_texts: list[str]):
    """(lumos model, train rows, test rows) for a TF-IDF + LogisticRegression pipeline: a binary logistic
    regression on the dense TF-IDF columns the rows use (the same logits on these rows)."""
    from ..influence.linear import linear_network

    pipe = model.estimator
    vectorizer, lr = pipe.steps[0][1], pipe.steps[-1][1]
    x_train, x_test = vectorizer.transform(train_texts), vectorizer.transform(test_texts)
    used = np.union1d(x_train.nonzero()[1], x_test.nonzero()[1])
    coef = np.atleast_2d(lr.coef_)[:, used]
    net = linear_network(coef, lr.intercept_)
    return wrap(net, labels=model.labels), x_train[:, used].toarray(), x_test[:, used].toarray()


def _is_text_pipeline(model: Any) -> bool:
    """A scikit-learn text pipeline whose last step is a linear classifier (TF-IDF + logistic regression)."""
    steps = getattr(getattr(model, "estimator", None), "steps", None)
    return model.modalities == ("text",) and bool(steps) and hasattr(steps[-1][1], "coef_")


def influence_concentration(model: Any, data: Any, test: Any = None, *, method: str = "grad_dot",
                            n_train: int | None = 2000, n_test: int | None = 300, min_count: int = 20,
                            seed: int = 0, ngram_range: tuple[int, int] = (1, 2), n_bins: int = 4,
                            label_column: str = "label", text_column: str | None = None,
                            labels: Sequence[str] | None = None, **settings: Any) -> Findings:
    """Rank features by the share of proponent influence their training examples hold beyond their share of
    the examples.

    ``n_train`` sampled rows of ``data`` (the training split) against ``n_test`` rows of ``test`` (default: the
    other rows of ``data``), scored by ``lumos.influence(model, ..., method=method)`` (``settings`` go to it).
    Proponent mass of a training example: the sum of its positive scores over the test rows. Per feature seen
    ``min_count`` times: share = its examples' part of all proponent mass; effect = share - their part of the
    examples; score = z of that excess (a binomial approximation over the training rows); evidence also
    holds the same excess for self-influence (high for examples the model finds atypical).
    ``Findings.examples``: per training row, its proponent mass and self-influence.
    """
    from ..influence import influence

    model = wrap(model)
    d = labelled(data, label_column, text_column, labels, model)
    rows = sample_rows(len(d.frame), n_train, seed)
    train = labelled(d.frame.iloc[rows].reset_index(drop=True), label_column, d.text_column, d.labels)
    if test is None:
        rest = np.setdiff1d(np.arange(len(d.frame)), rows)
        if len(rest) == 0:
            raise InputError("influence needs test rows: pass test= (e.g. the validation split), or a smaller "
                             "n_train than the data has rows.")
        test_frame = d.frame.iloc[rest]
    else:
        test_frame = labelled(test, label_column, d.text_column, d.labels, what="test").frame
    test_frame = test_frame.iloc[sample_rows(len(test_frame), n_test, seed + 1)].reset_index(drop=True)
    te = labelled(test_frame, label_column, d.text_column, d.labels, what="test")
    if d.is_text and _is_text_pipeline(model):
        net, x_train, x_test = _linear_text(model, train.texts, te.texts)
        result = influence(net, (x_train, train.y), (x_test, te.y), method=method, seed=seed, **settings)
    else:
        result = influence(model, (train.inputs(), train.y), (te.inputs(), te.y), method=method, seed=seed,
                           **settings)
    proponent = np.clip(result.scores, 0, None).sum(0)  # (n_train,)
    own = result.self_influence
    candidates = _concentration(train, proponent, own, min_count, ngram_range, n_bins, method)
    examples = train.frame.assign(proponent_mass=proponent,
                                  self_influence=own if own is not None else np.nan).reset_index(drop=True)
    params = {"method": method, "n_train": len(rows), "n_test": len(te.y), "min_count": min_count, "seed": seed,
              "settings": {k: str(v) for k, v in settings.items()},
              "score": "z of a feature's excess share of proponent influence",
              "effect": "share of proponent mass - share of training examples"}
    return Findings("influence", candidates, params, examples)


def _concentration(train: Labelled, proponent: np.ndarray, own: np.ndarray | None, min_count: int,
                   ngram_range: tuple[int, int], n_bins: int, method: str) -> list[Candidate]:
    feats = candidate_features(train, min_count, ngram_range, n_bins)
    n = len(train.y)
    total = proponent.sum() or 1.0
    base = feats.counts / n
    share = np.asarray(feats.x.T @ proponent).ravel() / total
    # z: the feature's mass share against a random subset of the same size (mean base, variance from the rows)
    spread = np.sqrt(np.maximum(base * (1 - base), 1e-12) * np.var(proponent / total * n) / n)
    z = (share - base) / np.maximum(spread, 1e-12)
    own_excess = (np.asarray(feats.x.T @ own).ravel() / (own.sum() or 1.0) - base) if own is not None else None
    onehot = np.eye(len(train.labels))[train.y]
    by_label = np.asarray(feats.x.T @ onehot)
    order = np.lexsort((np.array(feats.keys, dtype=object).astype(str), -z))
    out = []
    for j in order:
        label = train.label_name(int(by_label[j].argmax()))
        finding = (f"training examples with {feats.keys[j]!r} ({100 * base[j]:.1f}% of {n:,}) hold "
                   f"{100 * share[j]:.1f}% of the proponent influence on the test predictions ({method})")
        evidence = {"count": int(feats.counts[j]), "mass_share": float(share[j]), "row_share": float(base[j])}
        if own_excess is not None:
            evidence["self_influence_excess"] = float(own_excess[j])
        out.append(Candidate(feats.keys[j], feats.kinds[j], float(z[j]), float(share[j] - base[j]), finding, label,
                             None, float(min(1.0, 2 * norm.sf(abs(z[j])) * len(z))), evidence))
    return out

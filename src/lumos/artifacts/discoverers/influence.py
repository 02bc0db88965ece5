"""Influence concentration: which candidate features the training examples that drive the model's predictions
share. Influence scores come from ``lumos.influence.explain`` (models with the ``network`` capability: torch
networks, logistic regressions, TF-IDF + logistic regression pipelines)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from scipy.stats import norm

from ...errors import InputError, UnsupportedError
from ...models import wrap
from ...params import SEED, Int, Optional, Registered
from ..data import Labelled, labelled
from ..features import candidate_features, sample_rows
from ..result import Candidate, Findings
from ._register import data_rules, discoverer


@discoverer("influence", requires=("network",), rules={
    **data_rules(), "method": Registered("influence"), "n_train": Optional(Int(low=1)), "n_test": Optional(Int(low=1)),
    "seed": SEED})
def influence_concentration(model: Any, data: Any, test: Any = None, *, method: str = "grad_dot",
                            n_train: int | None = 1000, n_test: int | None = 200, min_count: int = 20,
                            seed: int = 0, ngram_range: tuple[int, int] = (1, 2), n_bins: int = 4,
                            label_column: str = "label", text_column: str | None = None,
                            class_names: Sequence[str] | None = None, **params: Any) -> Findings:
    """Rank features whose training examples hold far more or far less proponent influence than their share.

    ``n_train`` sampled rows of ``data`` (the training split) against ``n_test`` rows of ``test`` (default: the
    other rows of ``data``), scored by ``lumos.influence.explain(model, ..., method=method)`` (``params`` go to
    it, e.g. ``layers=``). Proponent mass of a training example: the sum of its positive scores over the test
    rows. Per feature seen ``min_count`` times: share = its examples' part of all proponent mass; effect =
    share - their part of the examples; score = |z| of that excess (a binomial approximation over the training
    rows). Both directions matter: a feature the model leans on makes its examples easy, so their small
    gradients hold far less influence than their share (a planted perfect artifact shows as a large negative
    excess), while examples that contradict such a feature hold more. Evidence also holds the same excess for
    self-influence (high for examples the model finds atypical). ``Findings.examples``: per training row, its
    proponent mass and self-influence.
    """
    from ... import influence

    model = wrap(model)
    if not model.can("network"):
        raise UnsupportedError(f"influence concentration needs the network capability (a torch network or a "
                               f"logistic regression); a {type(model).__name__} has "
                               f"{', '.join(sorted(model.capabilities)) or 'only predictions'}. The other "
                               "discoverers (statistics, attributions, partial_input, worst_slices) need none.")
    d = labelled(data, label_column, text_column, class_names, model)
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
    result = influence.explain(model, (train.inputs(), train.y), (te.inputs(), te.y), method=method, seed=seed,
                               **params)
    proponent = np.clip(result.scores, 0, None).sum(0)  # (n_train,)
    own = result.self_influence
    candidates = _concentration(train, proponent, own, min_count, ngram_range, n_bins, method)
    examples = train.frame.assign(proponent_mass=proponent,
                                  self_influence=own if own is not None else np.nan).reset_index(drop=True)
    out_params = {"method": method, "n_train": len(rows), "n_test": len(te.y), "min_count": min_count,
                  "seed": seed, "influence_params": {k: str(v) for k, v in params.items()},
                  "score": "|z| of a feature's excess (or shortfall) share of proponent influence",
                  "effect": "share of proponent mass - share of training examples"}
    return Findings("influence", candidates, out_params, examples)


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
    order = np.lexsort((np.array(feats.keys, dtype=object).astype(str), -np.abs(z)))
    out = []
    for j in order:
        label = train.label_name(int(by_label[j].argmax()))
        finding = (f"training examples with {feats.keys[j]!r} ({100 * base[j]:.1f}% of {n:,}) hold "
                   f"{100 * share[j]:.1f}% of the proponent influence on the test predictions ({method}; "
                   f"{'more' if share[j] > base[j] else 'less'} than their share, z = {z[j]:+.1f})")
        evidence = {"count": int(feats.counts[j]), "mass_share": float(share[j]), "row_share": float(base[j]),
                    "z": float(z[j])}
        if own_excess is not None:
            evidence["self_influence_excess"] = float(own_excess[j])
        out.append(Candidate(feats.keys[j], feats.kinds[j], float(abs(z[j])), float(share[j] - base[j]), finding, label,
                             None, float(min(1.0, 2 * norm.sf(abs(z[j])) * len(z))), evidence))
    return out

"""Dataset statistics (Gardner et al. 2021, "Competency problems"): for every feature seen at least ``min_count``
times, a z-test of p(label | feature) against the label's prior, corrected for the number of tests."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from scipy.stats import norm

from ...params import Choice, Float
from ...robustness.slices import wilson
from ..data import labelled
from ..features import candidate_features
from ..result import Candidate, Findings
from ..stats import CORRECTIONS, adjust
from ._register import data_rules, discoverer

@discoverer("statistics", rules={**data_rules(), "correction": Choice(*CORRECTIONS),
                                  "alpha": Float(0, 1, low_open=True, high_open=True)})
def statistics(data: Any, *, min_count: int = 20, correction: str = "holm", alpha: float = 0.05,
               ngram_range: tuple[int, int] = (1, 2), n_bins: int = 4, label_column: str = "label",
               text_column: str | None = None, class_names: Sequence[str] | None = None) -> Findings:
    """Rank features by how far p(label | feature) strays from the label's prior.

    data: a DataFrame with a label column and a text column (features: lower-cased tokens and n-grams) or
    feature columns (categorical values, quantile bins of numeric columns). For each feature with at least
    ``min_count`` examples and each label, z = (p_hat - p0) / sqrt(p0 (1 - p0) / n); a feature's score is its
    largest |z| over the labels (for two classes both give the same |z|), its p-value two-sided, corrected by
    ``correction`` over every test made. effect = p_hat - p0 for the label it points to, with a Wilson 95%
    interval; ``evidence["significant"]`` says whether the corrected p-value is below ``alpha``.
    """
    d = labelled(data, label_column, text_column, class_names)
    feats = candidate_features(d, min_count, ngram_range, n_bins)
    n_classes = len(d.labels)
    n = feats.counts
    onehot = np.eye(n_classes)[d.y]
    hits = np.asarray(feats.x.T @ onehot)  # (F, K) examples with the feature and each label
    prior = onehot.mean(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (hits / n[:, None] - prior) / np.sqrt(prior * (1 - prior) / n[:, None])
    z = np.nan_to_num(z)
    tested = 1 if n_classes == 2 else n_classes  # two classes: one test per feature
    best = np.abs(z).argmax(1) if n_classes > 2 else np.where(z[:, 1] >= 0, 1, 0)
    zbest = z[np.arange(len(n)), best]
    raw_p = 2 * norm.sf(np.abs(zbest))
    p = adjust(np.minimum(raw_p * (tested if n_classes > 2 else 1), 1.0), correction)
    order = np.lexsort((np.array(feats.keys, dtype=object).astype(str), -np.abs(zbest)))
    candidates = []
    for j in order:
        k = int(best[j])
        share = hits[j, k] / n[j]
        lo, hi = wilson(int(hits[j, k]), int(n[j]))
        name = d.label_name(k)
        p_text = f"p = {p[j]:.2g}" if p[j] >= 1e-300 else "p < 1e-300"
        finding = (f"{feats.keys[j]!r} appears in {100 * n[j] / len(d.y):.1f}% of the examples ({int(n[j]):,}); "
                   f"{100 * share:.0f}% of them are labelled {name} (against {100 * prior[k]:.0f}% overall); "
                   f"z = {zbest[j]:+.1f}, {p_text} ({correction})")
        candidates.append(Candidate(
            feats.keys[j], feats.kinds[j], float(abs(zbest[j])), float(share - prior[k]), finding, name,
            (float(lo - prior[k]), float(hi - prior[k])), float(p[j]),
            {"count": int(n[j]), "with_label": int(hits[j, k]), "share": float(share), "prior": float(prior[k]),
             "z": float(zbest[j]), "significant": bool(p[j] < alpha)}))
    params = {"min_count": min_count, "correction": correction, "alpha": alpha, "tests": int(len(n) * tested),
              "ngram_range": list(ngram_range) if d.is_text else None, "n_bins": None if d.is_text else n_bins,
              "score": "|z| of p(label | feature) against the prior",
              "effect": "p(label | feature) - p(label)", "examples": len(d.y)}
    return Findings("statistics", candidates, params)

"""Partial-input baselines (the hypothesis-only idea, generalised): how well a model that sees only one candidate
feature, or only the top few together, predicts the label on held-out rows."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ...errors import InputError
from ...params import SEED, Int
from ..data import labelled
from ..features import FeatureMatrix, candidate_features, text_features
from ..result import Candidate, Findings
from ._register import data_rules, discoverer


def _split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[: n // 2]), np.sort(order[n // 2:])


@discoverer("partial_input", rules={**data_rules(), "top": Int(low=1), "seed": SEED})
def partial_input(data: Any, heldout: Any = None, *, min_count: int = 20, top: int = 10, seed: int = 0,
                  ngram_range: tuple[int, int] = (1, 2), n_bins: int = 4, label_column: str = "label",
                  text_column: str | None = None, class_names: Sequence[str] | None = None) -> Findings:
    """Rank features by the information a one-feature model carries about the label on held-out rows.

    For each feature seen at least ``min_count`` times in ``data``, p(label | present) and p(label | absent)
    (add-one smoothed) are fitted on ``data`` and scored on ``heldout`` (default: a seeded half of ``data``,
    the other half fitting): score = effect = the drop in log-loss against the label prior, in bits per
    held-out example, with a 95% interval over the examples. params["combined"]: held-out accuracy and AUC of a
    logistic regression on the ``top`` features together, beside the majority class.
    """
    d = labelled(data, label_column, text_column, class_names)
    if heldout is None:
        fit_rows, eval_rows = _split(len(d.frame), seed)
        fit_d = labelled(d.frame.iloc[fit_rows].reset_index(drop=True), label_column, d.text_column, d.labels)
        eval_d = labelled(d.frame.iloc[eval_rows].reset_index(drop=True), label_column, d.text_column, d.labels)
    else:
        fit_d, eval_d = d, labelled(heldout, label_column, d.text_column, d.labels, what="heldout")
    feats = candidate_features(fit_d, min_count, ngram_range, n_bins)
    if not feats.keys:
        raise InputError(f"no feature occurs {min_count} times in the data; lower min_count.")
    ev = (text_features(eval_d.texts, ngram_range, vocabulary=feats.keys) if eval_d.is_text
          else _same_table_features(eval_d, feats))
    k = len(d.labels)
    onehot_fit, onehot_ev = np.eye(k)[fit_d.y], np.eye(k)[eval_d.y]
    present = np.asarray(feats.x.T @ onehot_fit) + 1.0  # (F, K) smoothed counts
    absent = onehot_fit.sum(0) - present + 2.0
    p_present, p_absent = present / present.sum(1, keepdims=True), absent / absent.sum(1, keepdims=True)
    prior = (onehot_fit.sum(0) + 1) / (len(fit_d.y) + k)
    ev_present = np.asarray(ev.x.T @ onehot_ev)  # (F, K) held-out counts
    ev_absent = onehot_ev.sum(0) - ev_present
    gain_present = np.log2(p_present) - np.log2(prior)  # bits saved per example, by cell
    gain_absent = np.log2(p_absent) - np.log2(prior)
    m = len(eval_d.y)
    mean = ((ev_present * gain_present).sum(1) + (ev_absent * gain_absent).sum(1)) / m
    second = ((ev_present * gain_present ** 2).sum(1) + (ev_absent * gain_absent ** 2).sum(1)) / m
    half = 1.96 * np.sqrt(np.maximum(second - mean ** 2, 0) / m)
    majority = float(onehot_ev.mean(0).max())
    order = np.lexsort((np.array(feats.keys, dtype=object).astype(str), -mean))
    candidates = []
    for j in order:
        label = int(np.argmax(p_present[j] / prior))
        acc = float((np.where(ev.x[:, j].toarray().ravel() > 0, p_present[j].argmax(), p_absent[j].argmax())
                     == eval_d.y).mean())
        finding = (f"knowing only whether {feats.keys[j]!r} is present saves {1000 * mean[j]:.1f} millibits per "
                   f"held-out example against the label prior (it points to {d.label_name(label)}: "
                   f"{100 * p_present[j, label]:.0f}% of its examples; one-feature accuracy {acc:.3f}, majority "
                   f"class {majority:.3f})")
        candidates.append(Candidate(feats.keys[j], feats.kinds[j], float(mean[j]), float(mean[j]), finding,
                                    d.label_name(label), (float(mean[j] - half[j]), float(mean[j] + half[j])), None,
                                    {"count": int(feats.counts[j]), "heldout_count": int(ev_present[j].sum()),
                                     "accuracy": acc}))
    combined = _combined(feats, ev, fit_d.y, eval_d.y, [c.key for c in candidates[:top]])
    params = {"min_count": min_count, "top": top, "seed": seed, "heldout": "given" if heldout is not None else
              "half of data", "fit_rows": len(fit_d.y), "heldout_rows": m, "majority_accuracy": majority,
              "combined": combined, "score": "held-out log-loss drop against the prior (bits per example)",
              "effect": "held-out log-loss drop against the prior (bits per example)"}
    return Findings("partial_input", candidates, params)


def _same_table_features(eval_d, feats):
    """The fitted table features (same keys, same bins) measured on other rows."""
    from scipy import sparse

    cols = []
    for key, kind, column in zip(feats.keys, feats.kinds, feats.columns):
        v = eval_d.frame[column]
        if kind == "value":
            shown = key.partition(" = ")[2]
            mask = (v.astype(str) == shown).to_numpy()
        else:
            lo, rest = key.split(" <= ", 1)
            op = "<=" if " <= " in rest else "<"
            hi = rest.split(f" {op} ")[1]
            num = v.to_numpy(dtype=float)
            mask = (num >= float(lo)) & (num <= float(hi) if op == "<=" else num < float(hi))
        cols.append(sparse.csc_matrix(mask.astype(np.float64)[:, None]))
    return FeatureMatrix(sparse.hstack(cols).tocsc(), feats.keys, feats.kinds, feats.columns)


def _combined(feats, ev, y_fit: np.ndarray, y_ev: np.ndarray, keys: list[str]) -> dict[str, Any]:
    """Held-out accuracy and AUC of a logistic regression on the given features alone."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    cols = [feats.keys.index(k) for k in keys]
    if not cols or len(np.unique(y_fit)) < 2:
        return {"features": keys, "accuracy": float("nan")}
    lr = LogisticRegression(max_iter=1000).fit(feats.x[:, cols], y_fit)
    probs = lr.predict_proba(ev.x[:, cols])
    out = {"features": keys, "accuracy": float((lr.classes_[probs.argmax(1)] == y_ev).mean())}
    if probs.shape[1] == 2 and len(np.unique(y_ev)) == 2:
        out["auc"] = float(roc_auc_score(y_ev, probs[:, 1]))
    return out

"""Training dynamics and data maps (Swayamdipta et al. 2020): each training example's confidence (mean
probability of its label across epochs), variability (its standard deviation) and correctness, recorded while
a zoo recipe trains (``lumos.zoo.train_on(..., dynamics=True)``); candidates are the features whose
contradicting examples the model finds hard to learn."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm

from ...errors import InputError
from ...params import Float
from ..data import labelled
from ..features import candidate_features
from ..result import Candidate, Findings
from ..stats import adjust
from ._register import data_rules, discoverer


@discoverer("data_map", rules={**data_rules(), "quantile": Float(0, 1, low_open=True, high_open=True)})
def data_map(dynamics: Any, data: Any, *, min_count: int = 20, quantile: float = 1 / 3,
             ngram_range: tuple[int, int] = (1, 2), n_bins: int = 4, label_column: str = "label",
             text_column: str | None = None, class_names: Sequence[str] | None = None) -> Findings:
    """The data map of ``data`` (the training split the model was trained on) and the features it implicates.

    dynamics: a model from ``lumos.zoo.train_on(..., dynamics=True)`` (its ``training_dynamics``), that
    ``TrainingDynamics``, or an (E, N, K) array of per-epoch probabilities for the N rows of ``data``.
    Regions: "ambiguous" (variability in the top ``quantile``), "hard-to-learn" (confidence in the bottom
    ``quantile``, not ambiguous), "easy-to-learn" (the rest); ``Findings.examples`` holds them per example.
    For each feature seen ``min_count`` times: its contradicting examples (those whose label is not the one most
    of its examples carry); score = z of the hard-to-learn share among them against the share among all
    examples (Holm-corrected p-value); effect = the difference of the shares.
    """
    d = labelled(data, label_column, text_column, class_names, getattr(dynamics, "labels", None))
    probs, index = _dynamics(dynamics, len(d.frame))
    if probs.shape[0] < 2:
        raise InputError(f"a data map needs probabilities from at least 2 epochs; got {probs.shape[0]}. Train with "
                         "more epochs.")
    y = d.y[index]
    gold = probs[:, np.arange(len(index)), y]  # (E, N)
    confidence, variability = np.nanmean(gold, 0), np.nanstd(gold, 0)
    correctness = np.nanmean(np.nanargmax(np.nan_to_num(probs, nan=-1.0), 2) == y, 0)
    ambiguous = variability > np.quantile(variability, 1 - quantile)
    hard = ~ambiguous & (confidence <= np.quantile(confidence, quantile))
    region = np.where(ambiguous, "ambiguous", np.where(hard, "hard-to-learn", "easy-to-learn"))
    examples = pd.DataFrame({"row": index, "label": y, "confidence": confidence, "variability": variability,
                             "correctness": correctness, "region": region})
    sub = labelled(d.frame.iloc[index].reset_index(drop=True), label_column, d.text_column, d.labels)
    feats = candidate_features(sub, min_count, ngram_range, n_bins)
    k = len(d.labels)
    onehot = np.eye(k)[y]
    by_label = np.asarray(feats.x.T @ onehot)  # (F, K)
    majority = by_label.argmax(1)
    contra = feats.x.multiply(1.0 - onehot[:, majority]).tocsc()  # (N, F): carriers not of the feature's majority
    n_contra = np.asarray(contra.sum(0)).ravel()
    hard_contra = np.asarray(contra.T @ hard.astype(float)).ravel()
    base = hard.mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(n_contra > 0, hard_contra / n_contra, 0.0)
        z = np.where(n_contra > 0, (share - base) / np.sqrt(base * (1 - base) / n_contra), 0.0)
    p = adjust(norm.sf(z), "holm")
    order = np.lexsort((np.array(feats.keys, dtype=object).astype(str), -z))
    candidates = []
    for j in order:
        name = d.label_name(int(majority[j]))
        finding = (f"of the {int(n_contra[j]):,} examples with {feats.keys[j]!r} not labelled {name} (its majority: "
                   f"{100 * by_label[j, majority[j]] / feats.counts[j]:.0f}% of {int(feats.counts[j]):,}), "
                   f"{100 * share[j]:.0f}% are hard to learn (against {100 * base:.0f}% of all examples)")
        candidates.append(Candidate(feats.keys[j], feats.kinds[j], float(z[j]), float(share[j] - base), finding, name,
                                    None, float(p[j]),
                                    {"count": int(feats.counts[j]), "contradicting": int(n_contra[j]),
                                     "hard_contradicting": int(hard_contra[j])}))
    params = {"epochs": int(probs.shape[0]), "examples": int(len(index)), "quantile": quantile,
              "min_count": min_count, "regions": examples["region"].value_counts().to_dict(),
              "score": "z of the hard-to-learn share among a feature's contradicting examples",
              "effect": "hard-to-learn share among contradicting examples - share among all"}
    return Findings("data_map", candidates, params, examples)


def _dynamics(dynamics: Any, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(E, N, K) probabilities and (N,) row positions from a model, a TrainingDynamics or an array."""
    found = getattr(dynamics, "training_dynamics", dynamics)
    if hasattr(found, "probs") and hasattr(found, "index"):
        probs, index = np.asarray(found.probs, dtype=np.float64), np.asarray(found.index)
    elif isinstance(found, np.ndarray):
        probs = np.asarray(found, dtype=np.float64)
        index = np.arange(probs.shape[1]) if probs.ndim == 3 and probs.shape[1] == n_rows else np.array([])
    else:
        raise InputError(f"no training dynamics in {type(dynamics).__name__}: pass a model trained with "
                         "lumos.zoo.train_on(name, splits, dynamics=True) (torch recipes and gbm record them), its "
                         "training_dynamics, or an (epochs, rows, classes) array.")
    if probs.ndim != 3 or probs.shape[1] != len(index) or (len(index) and index.max() >= n_rows):
        raise InputError(f"training dynamics must be (epochs, rows, classes) for the rows of the data "
                         f"({n_rows}); got shape {probs.shape}.")
    return probs, index

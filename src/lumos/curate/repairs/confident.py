"""Confident learning (Northcutt et al. 2021) through cleanlab: find likely label errors from out-of-fold
predicted probabilities, then drop them or give them the predicted label."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ...errors import InputError, UnsupportedError
from ...params import Array, Choice, Int, Optional, param
from ..base import Declared, RepairContext, Repaired, changes_frame, register

ACTIONS = ("drop", "relabel")
FILTERS = ("prune_by_noise_rate", "prune_by_class", "both", "confident_learning", "predicted_neq_given",
           "low_normalized_margin", "low_self_confidence")  # cleanlab's find_label_issues(filter_by=...)


def out_of_fold_probs(d, folds: int, seed: int) -> np.ndarray:
    """(N, K) probabilities of each row from a model that did not see it: TF-IDF + logistic regression for text,
    one-hot + scaled logistic regression for tables, ``folds``-fold."""
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    if d.is_text:
        model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
                              LogisticRegression(C=4.0, max_iter=2000))
        x: Any = d.texts
    else:
        frame = d.frame[list(d.columns)]
        categorical = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
        numeric = [c for c in frame.columns if c not in categorical]
        model = make_pipeline(ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
                                                 ("num", StandardScaler(), numeric)]),
                              LogisticRegression(max_iter=2000))
        x = frame
    split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return cross_val_predict(model, x, d.y, cv=split, method="predict_proba")


@register("confident_learning")
@dataclass
class ConfidentLearning(Declared):
    """``action``: "drop" the suspected label errors or "relabel" them with the predicted class.
    ``pred_probs``: (N, K) out-of-fold probabilities if you have them (default: ``folds``-fold from a linear
    model). ``filter_by``: cleanlab's method ("prune_by_noise_rate", "prune_by_class", "both",
    "confident_learning", "predicted_neq_given")."""

    summary = "Drop or relabel suspected label errors found by confident learning (cleanlab)."
    modalities = ("text", "tabular")

    action: str = param("drop", Choice(*ACTIONS))
    folds: int = param(5, Int(low=2))
    filter_by: str = param("prune_by_noise_rate", Choice(*FILTERS))
    pred_probs: np.ndarray | None = param(None, Optional(Array()))

    def __call__(self, train: pd.DataFrame, context: RepairContext) -> Repaired:
        try:
            from cleanlab.filter import find_label_issues
        except ImportError:
            raise UnsupportedError("confident learning needs cleanlab: pip install cleanlab") from None
        d = context.data(train)
        probs = (np.asarray(self.pred_probs, dtype=np.float64) if self.pred_probs is not None
                 else out_of_fold_probs(d, self.folds, context.seed))
        if probs.shape != (len(train), len(d.labels)):
            raise InputError(f"pred_probs must be ({len(train)}, {len(d.labels)}); got {probs.shape}.")
        issues = find_label_issues(labels=d.y, pred_probs=probs, filter_by=self.filter_by)
        source = train.reset_index(drop=True)
        predicted = probs.argmax(1)
        if self.action == "drop":
            new = source[~issues].reset_index(drop=True)
            rows = [{"change": "removed", "row": int(i), "new_row": pd.NA, "label": int(d.y[i]),
                     "new_label": pd.NA, "weight": np.nan,
                     "detail": f"suspected label error (p(given label) = {probs[i, d.y[i]]:.2f})"}
                    for i in np.flatnonzero(issues)]
        else:
            new = source.copy()
            new.loc[issues, d.label_column] = predicted[issues]
            rows = [{"change": "relabelled", "row": int(i), "new_row": int(i), "label": int(d.y[i]),
                     "new_label": int(predicted[i]), "weight": 1.0,
                     "detail": f"p(given label) = {probs[i, d.y[i]]:.2f}"} for i in np.flatnonzero(issues)]
        params = {"action": self.action, "folds": self.folds, "filter_by": self.filter_by,
                  "issues": int(issues.sum()), "given_pred_probs": self.pred_probs is not None}
        return Repaired(new, None, None, changes_frame(rows), "confident_learning", params)

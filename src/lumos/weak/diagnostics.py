"""How each labeling function behaves: coverage, overlap, conflict, polarity, and accuracy against gold."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from .matrix import LabelMatrix, as_matrix


def lf_summary(L: LabelMatrix | np.ndarray, labels: Sequence[int] | None = None, weak: Any = None) -> pd.DataFrame:
    """One row per LF.

    polarity: the classes it ever votes. coverage: fraction of examples it votes on. overlap: fraction where
    it and at least one other LF vote. conflict: fraction where another LF votes a different class.
    With ground-truth ``labels`` (N,) class indices (-1: unknown, e.g. outside a small dev set): correct,
    incorrect and accuracy on the labelled rows it votes on (NaN when it votes on none). With ``weak`` (the
    WeakLabels of a label model fit on these LFs): learned_accuracy. seconds: time spent applying it, when known.
    """
    matrix = as_matrix(L)
    votes = matrix.L
    N, M = votes.shape
    fired = votes >= 0
    n_fired = fired.sum(1)
    table = pd.DataFrame({"lf": matrix.lf_names, "kind": [matrix.kinds.get(n, "") for n in matrix.lf_names]})
    table["polarity"] = [", ".join(matrix.classes[k] for k in np.unique(votes[fired[:, j], j])) for j in range(M)]
    table["coverage"] = fired.mean(0)
    table["overlap"] = (fired & (n_fired[:, None] > 1)).mean(0)
    conflict = np.zeros(M)
    for k in range(matrix.n_classes):
        voted_other = ((votes >= 0) & (votes != k)).any(1)
        conflict += ((votes == k) & voted_other[:, None]).mean(0)
    table["conflict"] = conflict
    if labels is not None:
        y = np.asarray(labels)
        if y.shape != (N,):
            raise InputError(f"labels has shape {y.shape}; expected ({N},), one class index (or -1) per example.")
        known = fired & (y[:, None] >= 0)
        right = known & (votes == y[:, None])
        table["correct"] = right.sum(0)
        table["incorrect"] = known.sum(0) - right.sum(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            table["accuracy"] = np.where(known.sum(0) > 0, right.sum(0) / known.sum(0), np.nan)
    if weak is not None:
        if list(weak.lf_names) != list(matrix.lf_names):
            raise InputError("weak was fit on other LFs than this matrix's; pass the WeakLabels of these LFs.")
        table["learned_accuracy"] = weak.accuracies
    if matrix.seconds:
        table["seconds"] = [matrix.seconds.get(n, np.nan) for n in matrix.lf_names]
    return table


def class_coverage(L: LabelMatrix | np.ndarray) -> pd.Series:
    """Per class: the fraction of examples with at least one vote for it (0 means no LF ever votes it)."""
    matrix = as_matrix(L)
    return pd.Series([(matrix.L == k).any(1).mean() for k in range(matrix.n_classes)], index=matrix.classes,
                     name="coverage")

"""Performance of the examples a data-table filter selects: accuracy with its Wilson interval, the confusion
matrix (each cell a link to its examples), precision, recall and F1 per class, a reliability curve, and for
binary models the decision threshold: what a threshold on p(class 1) gives, and the threshold that minimises
``cost * false positives + false negatives``. All from the run's index (indexed SQL, then numpy)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

import numpy as np

from ..robustness.slices import wilson
from .index import Query, filters

BINS = 10


@dataclass
class ClassScores:
    name: str
    precision: float | None
    recall: float | None
    f1: float | None
    support: int


@dataclass
class Threshold:
    threshold: float
    accuracy: float
    false_positives: int
    false_negatives: int
    best: float  # the threshold with the lowest cost * FP + FN on these examples
    best_accuracy: float
    cost: float


@dataclass
class Performance:
    n: int
    labelled: int
    accuracy: float | None
    interval: tuple[float, float] | None
    confusion: list[list[int]]  # [truth][predicted]
    classes: list[ClassScores]
    reliability: list[tuple[float, float, int]] = field(default_factory=list)  # (mean confidence, accuracy, n)
    threshold: Threshold | None = None


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def performance(db: sqlite3.Connection, run_id: str, query: Query, labels: list[str],
                threshold: float | None = None, cost: float = 1.0) -> Performance:
    """The performance of every example ``query`` selects (paging ignored)."""
    where, args = filters(run_id, query)
    k = max(len(labels), 2)
    confusion = np.zeros((k, k), dtype=np.int64)
    for truth, predicted, count in db.execute(f"SELECT r.truth, r.predicted, COUNT(*) FROM serve_rows r WHERE {where} "
                                              "AND r.truth IS NOT NULL AND r.predicted IS NOT NULL "
                                              "GROUP BY r.truth, r.predicted", args):
        if truth < k and predicted < k:
            confusion[truth, predicted] = count
    n = db.execute(f"SELECT COUNT(*) FROM serve_rows r WHERE {where}", args).fetchone()[0]
    labelled = int(confusion.sum())
    hits = int(np.trace(confusion))
    classes = []
    for c in range(k):
        tp, predicted, actual = confusion[c, c], confusion[:, c].sum(), confusion[c].sum()
        p, r = _ratio(tp, predicted), _ratio(tp, actual)
        f1 = 2 * p * r / (p + r) if p is not None and r is not None and p + r > 0 else None
        classes.append(ClassScores(labels[c] if c < len(labels) else str(c), p, r, f1, int(actual)))
    reliability = [(conf / count, correct / count, int(count)) for conf, correct, count in db.execute(
        f"SELECT SUM(r.confidence), SUM(r.correct), COUNT(*) FROM serve_rows r WHERE {where} AND r.correct IS NOT NULL "
        f"GROUP BY MIN(CAST(r.confidence * {BINS} AS INTEGER), {BINS - 1}) ORDER BY SUM(r.confidence) / COUNT(*)",
        args) if count]
    result = Performance(int(n), labelled, _ratio(hits, labelled), wilson(hits, labelled) if labelled else None,
                         confusion.tolist(), classes, reliability)
    if threshold is not None and len(labels) == 2:
        result.threshold = _threshold(db, where, args, threshold, cost)
    return result


def _threshold(db: sqlite3.Connection, where: str, args: list, threshold: float, cost: float) -> Threshold:
    rows = db.execute(f"SELECT r.truth, r.probs FROM serve_rows r WHERE {where} AND r.truth IS NOT NULL AND "
                      "r.probs IS NOT NULL", args).fetchall()
    y = np.array([t for t, _ in rows], dtype=np.int64)
    p = np.array([json.loads(q)[1] for _, q in rows], dtype=np.float64)
    if not len(y):
        return Threshold(threshold, float("nan"), 0, 0, threshold, float("nan"), cost)

    def errors(t: float) -> tuple[int, int]:
        said = p >= t
        return int((said & (y == 0)).sum()), int((~said & (y == 1)).sum())

    order = np.argsort(p, kind="stable")
    ps, ys = p[order], y[order]
    # the threshold ps[i] calls positions i.. positive; only the first of equal probabilities is a real choice,
    # and len(ps) (above every probability) calls all negative
    fn = np.concatenate([[0], np.cumsum(ys == 1)])
    fp = (ys == 0).sum() - np.concatenate([[0], np.cumsum(ys == 0)])
    choices = np.flatnonzero(np.concatenate([[True], ps[1:] != ps[:-1], [True]]))
    i = int(choices[np.argmin(cost * fp[choices] + fn[choices])])
    best = float(ps[i]) if i < len(ps) else float(np.nextafter(ps[-1], np.inf))
    fp_t, fn_t = errors(threshold)
    fp_b, fn_b = errors(best)
    return Threshold(threshold, 1 - (fp_t + fn_t) / len(y), fp_t, fn_t, best, 1 - (fp_b + fn_b) / len(y), cost)

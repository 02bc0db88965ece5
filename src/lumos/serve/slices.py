"""Slices of a run in the data table: the rule slices and discovered slices of ``lumos.robustness.slices`` (with
their accuracy, Wilson interval and calibration error), and any filter of the table saved as a slice. Members
are stored per slice, so filtering the table by a slice is one indexed query."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..bench.store import Store
from ..errors import InputError
from ..robustness.slices import default_text_rules, slice_stats, worst_feature_pairs

MIN_SIZE_FRACTION = 0.02  # a discovered table slice holds at least this share of the examples (and 10)


@dataclass
class Slice:
    slice_id: int
    name: str
    source: str
    size: int
    accuracy: float | None
    low: float | None
    high: float | None
    difference: float | None
    ece: float | None


def build(store: Store, run_id: str, modality: str, arrays: dict[str, Any]) -> list[Slice]:
    """Rule slices (texts: length and negation rules) and discovered ones (tables: the worst feature-value
    conditions) of an indexed run, replacing its earlier rule and discovered slices (saved filters are kept)."""
    ids, truth, probs = arrays["example_id"], arrays["truth"], arrays["probs"]
    known = (truth >= 0) & np.isfinite(probs).all(axis=1)
    found: list[tuple[str, str, np.ndarray]] = []
    if modality == "text":
        texts = list(arrays["raw"])
        found += [(r.name, "rule", np.asarray(r.mask(texts), dtype=bool)) for r in default_text_rules()]
    elif modality == "tabular" and known.any():
        rows = np.flatnonzero(known)
        frame = pd.DataFrame([json.loads(arrays["raw"][i]) for i in rows])
        hit = probs[rows].argmax(1) == truth[rows]
        min_size = max(10, int(MIN_SIZE_FRACTION * len(rows)))
        for name, sub in worst_feature_pairs(frame, hit, min_size, 5):
            mask = np.zeros(len(ids), dtype=bool)
            mask[rows[sub]] = True
            found.append((name, "discovered", mask))
    with store.transaction() as db:
        db.execute("DELETE FROM serve_slice_members WHERE run_id=? AND slice_id IN "
                   "(SELECT slice_id FROM serve_slices WHERE run_id=? AND source != 'saved')", (run_id, run_id))
        db.execute("DELETE FROM serve_slices WHERE run_id=? AND source != 'saved'", (run_id,))
        for name, source, mask in found:
            _insert(db, run_id, name, source, ids[mask], truth, probs, known, mask)
    return list_slices(store.db, run_id)


def save(store: Store, run_id: str, name: str, example_ids: list[int]) -> Slice:
    """Store the examples a filter selects as a slice named ``name``, with its statistics."""
    name = " ".join(str(name).split())[:120]
    if not name:
        raise InputError("a saved slice needs a name; type one beside the Save button.")
    if not example_ids:
        raise InputError("the filter selects no examples, so there is no slice to save; loosen the filter.")
    rows = store.db.execute("SELECT example_id, truth, probs FROM serve_rows WHERE run_id=?", (run_id,)).fetchall()
    if not rows:
        raise InputError(f"run {run_id} has no index yet; open its data table and wait for the index first.")
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    truth = np.array([-1 if r[1] is None else r[1] for r in rows], dtype=np.int64)
    width = max((len(json.loads(r[2])) for r in rows if r[2]), default=2)
    probs = np.array([json.loads(r[2]) if r[2] and len(json.loads(r[2])) == width else [np.nan] * width
                      for r in rows], dtype=np.float64)
    known = (truth >= 0) & np.isfinite(probs).all(axis=1)
    mask = np.isin(ids, np.asarray(example_ids, dtype=np.int64))
    with store.transaction() as db:
        slice_id = _insert(db, run_id, name, "saved", ids[mask], truth, probs, known, mask)
    return next(s for s in list_slices(store.db, run_id) if s.slice_id == slice_id)


def salience_patterns(store: Store, run_id: str, method: str, example_ids: list[int], k: int = 5,
                      seed: int = 0) -> list[Slice]:
    """Clusters of what ``method``'s stored explanations point at (Ebert et al. 2022): k-means over each
    example's words weighted by |attribution|, named by each cluster's heaviest words, stored as slices
    (source "pattern", replacing the earlier ones) with their accuracy and interval."""
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.preprocessing import normalize

    from ..bench.store import from_blob

    if not 2 <= k <= 20:
        raise InputError(f"the number of patterns must be between 2 and 20; got {k}.")
    weights, ids = [], []
    for lo in range(0, len(example_ids), 500):
        part = example_ids[lo:lo + 500]
        marks = ",".join("?" * len(part))
        for e, features, blob in store.db.execute(
                f"SELECT example_id, features, attributions FROM attributions WHERE run_id=? AND method=? AND "
                f"example_id IN ({marks})", [run_id, method, *part]):
            words, scores = json.loads(features or "null") or [], np.abs(from_blob(blob)).ravel()
            bag: dict[str, float] = {}
            for w, a in zip(words, scores):
                bag[str(w).lower()] = bag.get(str(w).lower(), 0.0) + float(a)
            if bag and any(bag.values()):
                weights.append(bag)
                ids.append(e)
    if len(ids) < k:
        raise InputError(f"{method} explains {len(ids)} of the selected examples (with words); patterns need at "
                         f"least {k}. Pick another method or a wider filter.")
    vectorizer = DictVectorizer()
    x = normalize(vectorizer.fit_transform(weights))
    model = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(x)
    vocabulary = np.array(vectorizer.get_feature_names_out())
    rows = store.db.execute("SELECT example_id, truth, probs FROM serve_rows WHERE run_id=?", (run_id,)).fetchall()
    all_ids = np.array([r[0] for r in rows], dtype=np.int64)
    truth = np.array([-1 if r[1] is None else r[1] for r in rows], dtype=np.int64)
    width = max((len(json.loads(r[2])) for r in rows if r[2]), default=2)
    probs = np.array([json.loads(r[2]) if r[2] and len(json.loads(r[2])) == width else [np.nan] * width
                      for r in rows], dtype=np.float64)
    known = (truth >= 0) & np.isfinite(probs).all(axis=1)
    with store.transaction() as db:
        db.execute("DELETE FROM serve_slice_members WHERE run_id=? AND slice_id IN "
                   "(SELECT slice_id FROM serve_slices WHERE run_id=? AND source='pattern')", (run_id, run_id))
        db.execute("DELETE FROM serve_slices WHERE run_id=? AND source='pattern'", (run_id,))
        for c in range(k):
            centre = model.cluster_centers_[c]
            top = [vocabulary[j] for j in np.argsort(-centre)[:4] if centre[j] > 1e-9]
            members = np.array(ids)[model.labels_ == c]
            _insert(db, run_id, f"{method} points at: {', '.join(top)}", "pattern", members, truth, probs, known,
                    np.isin(all_ids, members))
    return list_slices(store.db, run_id)


def list_slices(db: sqlite3.Connection, run_id: str) -> list[Slice]:
    """The run's slices, the worst (lowest accuracy against the overall one) first; saved ones last."""
    rows = db.execute("SELECT slice_id, name, source, size, accuracy, low, high, difference, ece FROM serve_slices "
                      "WHERE run_id=? ORDER BY source = 'saved', difference IS NULL, difference, slice_id",
                      (run_id,)).fetchall()
    return [Slice(*r) for r in rows]


def _insert(db: sqlite3.Connection, run_id: str, name: str, source: str, members: np.ndarray, truth: np.ndarray,
            probs: np.ndarray, known: np.ndarray, mask: np.ndarray) -> int:
    slice_id = db.execute("SELECT COALESCE(MAX(slice_id), 0) + 1 FROM serve_slices WHERE run_id=?",
                          (run_id,)).fetchone()[0]
    stats = None
    if (mask & known).any():
        overall = float((probs[known].argmax(1) == truth[known]).mean())
        stats = slice_stats(name, source, probs[known], truth[known], mask[known], overall)
    values = (None,) * 5 if stats is None else (stats.accuracy, stats.accuracy_ci[0], stats.accuracy_ci[1],
                                                stats.difference, stats.ece)
    db.execute("INSERT INTO serve_slices VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               (run_id, slice_id, name, source, int(mask.sum()), *[_plain(v) for v in values]))
    db.executemany("INSERT INTO serve_slice_members VALUES (?, ?, ?)",
                   [(run_id, slice_id, int(e)) for e in members])
    return int(slice_id)


def _plain(value: Any) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)

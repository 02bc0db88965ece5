"""The data table: an index of a run's examples (label, prediction, confidence, correctness, length) and a
full-text index (SQLite FTS5), kept in the run's own store beside the bench tables, so that sorting, filtering,
searching and paging are indexed SQL and a run of 100,000 examples pages as fast as one of 100.

The index is derived data: ``build`` writes it from the ``examples`` and ``attributions`` tables (in one
transaction), ``state`` says whether it is missing, current or stale. Until it exists, ``page`` serves the
examples in id order straight from the bench tables.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterator

import numpy as np

from ..bench.store import Store
from ..errors import InputError

SCHEMA = """
CREATE TABLE IF NOT EXISTS serve_index (
    run_id TEXT PRIMARY KEY, examples INTEGER NOT NULL, predicted INTEGER NOT NULL, built REAL NOT NULL);
CREATE TABLE IF NOT EXISTS serve_rows (
    key INTEGER PRIMARY KEY, run_id TEXT NOT NULL, example_id INTEGER NOT NULL, label TEXT, truth INTEGER,
    predicted INTEGER, confidence REAL, correct INTEGER, length INTEGER, probs TEXT, UNIQUE (run_id, example_id));
CREATE INDEX IF NOT EXISTS serve_rows_confidence ON serve_rows (run_id, confidence);
CREATE INDEX IF NOT EXISTS serve_rows_predicted ON serve_rows (run_id, predicted, confidence);
CREATE INDEX IF NOT EXISTS serve_rows_truth ON serve_rows (run_id, truth, confidence);
CREATE INDEX IF NOT EXISTS serve_rows_correct ON serve_rows (run_id, correct, confidence);
CREATE INDEX IF NOT EXISTS serve_rows_length ON serve_rows (run_id, length);
CREATE VIRTUAL TABLE IF NOT EXISTS serve_search USING fts5(body, tokenize='unicode61');
CREATE TABLE IF NOT EXISTS serve_slices (
    run_id TEXT NOT NULL, slice_id INTEGER NOT NULL, name TEXT NOT NULL, source TEXT NOT NULL, size INTEGER NOT NULL,
    accuracy REAL, low REAL, high REAL, difference REAL, ece REAL, PRIMARY KEY (run_id, slice_id));
CREATE TABLE IF NOT EXISTS serve_slice_members (
    run_id TEXT NOT NULL, slice_id INTEGER NOT NULL, example_id INTEGER NOT NULL,
    PRIMARY KEY (run_id, slice_id, example_id)) WITHOUT ROWID;
"""
SORTS = {"example_id": "example_id", "confidence": "confidence", "label": "truth", "predicted": "predicted",
         "correct": "correct", "length": "length"}
PAGE_SIZES = (25, 50, 100, 200)
CHUNK = 5000


def ensure_schema(db: sqlite3.Connection) -> None:
    for statement in SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)


@dataclass(frozen=True)
class Query:
    """One view of the data table. ``q``: words that must all occur (full-text); ``truth``/``predicted``: class
    indices; ``correct``: True/False; ``slice_id``: a stored slice; ``page`` counts from 1."""

    page: int = 1
    size: int = 50
    sort: str = "example_id"
    descending: bool = False
    q: str = ""
    truth: int | None = None
    predicted: int | None = None
    correct: bool | None = None
    slice_id: int | None = None
    min_length: int | None = None
    max_length: int | None = None

    @property
    def filtered(self) -> bool:
        return any(v not in (None, "") for v in (self.q, self.truth, self.predicted, self.correct, self.slice_id,
                                                  self.min_length, self.max_length))

    @classmethod
    def from_params(cls, params: Any) -> "Query":
        """From URL parameters; every value checked (a bad one is an InputError that names it)."""
        def integer(name: str, low: int = 0) -> int | None:
            raw = params.get(name)
            if raw in (None, ""):
                return None
            try:
                value = int(raw)
            except ValueError:
                raise InputError(f"{name} must be a whole number; got {str(raw)[:30]!r}.") from None
            if value < low:
                raise InputError(f"{name} must be at least {low}; got {value}.")
            return value

        sort = params.get("sort") or "example_id"
        if sort not in SORTS:
            raise InputError(f"sort must be one of {', '.join(SORTS)}; got {str(sort)[:30]!r}.")
        size = integer("size", 1) or 50
        if size not in PAGE_SIZES:
            raise InputError(f"size must be one of {', '.join(map(str, PAGE_SIZES))}; got {size}.")
        correct = params.get("correct")
        if correct not in (None, "", "yes", "no"):
            raise InputError(f"correct must be yes or no; got {str(correct)[:30]!r}.")
        q = str(params.get("q") or "").strip()
        if len(q) > 200:
            raise InputError(f"the search has {len(q)} characters; use at most 200.")
        return cls(page=integer("page", 1) or 1, size=size, sort=sort, descending=params.get("order") == "desc",
                   q=q, truth=integer("truth"), predicted=integer("predicted"),
                   correct=None if correct in (None, "") else correct == "yes", slice_id=integer("slice"),
                   min_length=integer("min_length"), max_length=integer("max_length"))

    def params(self, **changes: Any) -> dict[str, Any]:
        """URL parameters of this query with ``changes`` (the defaults left out)."""
        q = replace(self, **changes)
        out = {"page": q.page if q.page != 1 else None, "size": q.size if q.size != 50 else None,
               "sort": q.sort if q.sort != "example_id" else None, "order": "desc" if q.descending else None,
               "q": q.q or None, "truth": q.truth, "predicted": q.predicted,
               "correct": None if q.correct is None else ("yes" if q.correct else "no"), "slice": q.slice_id,
               "min_length": q.min_length, "max_length": q.max_length}
        return {k: v for k, v in out.items() if v is not None}


@dataclass
class Row:
    example_id: int
    raw: str
    label: str | None
    truth: int | None
    predicted: int | None
    confidence: float | None
    correct: bool | None


@dataclass
class Page:
    rows: list[Row]
    total: int
    query: Query
    indexed: bool
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.size))


# ----- state and building ---------------------------------------------------------------------------------
def counts(db: sqlite3.Connection, run_id: str) -> tuple[int, int]:
    """(examples stored, examples with a stored prediction) of a run."""
    n = db.execute("SELECT COUNT(*) FROM examples WHERE run_id=?", (run_id,)).fetchone()[0]
    predicted = db.execute("SELECT COUNT(*) FROM (SELECT DISTINCT example_id FROM attributions WHERE run_id=?)",
                           (run_id,)).fetchone()[0]
    return int(n), int(predicted)


def state(db: sqlite3.Connection, run_id: str) -> str:
    """"missing", "current" or "stale" (the run has gained examples or predictions since it was built)."""
    row = db.execute("SELECT examples, predicted FROM serve_index WHERE run_id=?", (run_id,)).fetchone()
    if row is None:
        return "missing"
    return "current" if tuple(row) == counts(db, run_id) else "stale"


def class_index(label: str | None, labels: list[str]) -> int | None:
    """A stored label (a class name or index as text) -> its class index, None when unknown."""
    if label is None:
        return None
    if label in labels:
        return labels.index(label)
    try:
        value = float(label)
    except ValueError:
        return None
    return int(value) if value.is_integer() and 0 <= value and (not labels or value < len(labels)) else None


def search_body(modality: str, raw: str, label: str | None) -> str:
    """What full-text search sees of an example: the text; a table row's column names and values."""
    if modality == "tabular":
        try:
            row = json.loads(raw)
            return " ".join(f"{k} {v}" for k, v in row.items())
        except (ValueError, AttributeError):
            return ""
    return raw if modality == "text" else ""


def _chunks(db: sqlite3.Connection, run_id: str) -> Iterator[list[tuple]]:
    """The run's (example_id, input, label, probs) in id order, ``CHUNK`` at a time, each chunk read whole (so
    writes can commit between chunks); probs: one stored explanation's, None when there is none."""
    last = -1
    while True:
        rows = db.execute("SELECT example_id, input, label FROM examples WHERE run_id=? AND example_id>? "
                          "ORDER BY example_id LIMIT ?", (run_id, last, CHUNK)).fetchall()
        if not rows:
            return
        probs = {e: p for e, p, _ in db.execute(
            "SELECT example_id, probs, MIN(method) FROM attributions WHERE run_id=? AND example_id>? AND "
            "example_id<=? GROUP BY example_id", (run_id, last, rows[-1][0]))}
        last = rows[-1][0]
        yield [(e, raw, label, probs.get(e)) for e, raw, label in rows]


def build(store: Store, run_id: str, modality: str, labels: list[str],
          progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    """(Re)build the run's index, one transaction per chunk of examples (the run reads as unindexed until
    the last one commits); returns the arrays slices are computed from: ``example_id``, ``truth`` (-1
    unknown), ``probs`` (N, K; NaN rows unknown), ``raw`` inputs."""
    ensure_schema(store.db)
    n, predicted = counts(store.db, run_id)
    ids, truths, probs_rows, raws = [], [], [], []
    with store.transaction() as db:
        db.execute("DELETE FROM serve_index WHERE run_id=?", (run_id,))
        db.execute("DELETE FROM serve_search WHERE rowid IN (SELECT key FROM serve_rows WHERE run_id=?)", (run_id,))
        db.execute("DELETE FROM serve_rows WHERE run_id=?", (run_id,))
    done = 0
    for chunk in _chunks(store.db, run_id):
        rows, bodies = [], []
        with store.transaction() as db:
            key = db.execute("SELECT COALESCE(MAX(key), 0) FROM serve_rows").fetchone()[0]
            for example_id, raw, label, probs_json in chunk:
                p = np.asarray(json.loads(probs_json), dtype=np.float64) if probs_json else None
                truth = class_index(label, labels)
                pred = int(p.argmax()) if p is not None and p.size else None
                key += 1
                rows.append((key, run_id, example_id, label, truth, pred, float(p[pred]) if pred is not None else None,
                             None if pred is None or truth is None else int(pred == truth),
                             len(raw.split()) if modality == "text" else None, probs_json))
                bodies.append((key, search_body(modality, raw, label)))
                ids.append(example_id)
                truths.append(-1 if truth is None else truth)
                probs_rows.append(p)
                raws.append(raw)
            db.executemany("INSERT INTO serve_rows VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            db.executemany("INSERT INTO serve_search (rowid, body) VALUES (?, ?)", bodies)
        done += len(chunk)
        if progress:
            progress("indexing examples", done, n)
    with store.transaction() as db:
        db.execute("INSERT OR REPLACE INTO serve_index VALUES (?, ?, ?, ?)", (run_id, n, predicted, time.time()))
    width = max((len(p) for p in probs_rows if p is not None), default=len(labels) or 2)
    probs = np.full((len(ids), width), np.nan)
    for i, p in enumerate(probs_rows):
        if p is not None and len(p) == width:
            probs[i] = p
    return {"example_id": np.asarray(ids, dtype=np.int64), "truth": np.asarray(truths, dtype=np.int64),
            "probs": probs, "raw": raws}


# ----- queries ----------------------------------------------------------------------------------------------
def fts_query(text: str) -> str:
    """A person's search words -> an FTS5 query where every word must occur (each quoted, so FTS5 syntax in
    the input is taken literally)."""
    words = [w for w in text.split() if w.strip('"')]
    return " AND ".join('"' + w.replace('"', '""') + '"' for w in words)


def page(db: sqlite3.Connection, run_id: str, query: Query) -> Page:
    """One page of the data table (the index when built; else id order from the bench tables)."""
    t0 = time.perf_counter()
    if state(db, run_id) == "missing":
        result = _unindexed_page(db, run_id, query)
    else:
        result = _indexed_page(db, run_id, query)
    result.seconds = time.perf_counter() - t0
    return result


def filters(run_id: str, query: Query) -> tuple[str, list[Any]]:
    """The SQL condition on ``serve_rows r`` that the query's filters make, and its arguments."""
    clauses, args = ["r.run_id = ?"], [run_id]
    if query.q and fts_query(query.q):
        clauses.append("r.key IN (SELECT rowid FROM serve_search WHERE serve_search MATCH ?)")
        args.append(fts_query(query.q))
    for column, value in (("truth", query.truth), ("predicted", query.predicted)):
        if value is not None:
            clauses.append(f"r.{column} = ?")
            args.append(value)
    if query.correct is not None:
        clauses.append("r.correct = ?")
        args.append(int(query.correct))
    if query.min_length is not None:
        clauses.append("r.length >= ?")
        args.append(query.min_length)
    if query.max_length is not None:
        clauses.append("r.length <= ?")
        args.append(query.max_length)
    if query.slice_id is not None:
        clauses.append("r.example_id IN (SELECT example_id FROM serve_slice_members WHERE run_id = ? AND slice_id = ?)")
        args += [run_id, query.slice_id]
    return " AND ".join(clauses), args


def matching_ids(db: sqlite3.Connection, run_id: str, query: Query) -> list[int]:
    """Every example id the query's filters select (no paging), for saving a filter as a slice."""
    where, args = filters(run_id, query)
    return [r[0] for r in db.execute(f"SELECT r.example_id FROM serve_rows r WHERE {where}", args)]


def _indexed_page(db: sqlite3.Connection, run_id: str, query: Query) -> Page:
    where, args = filters(run_id, query)
    total = db.execute(f"SELECT COUNT(*) FROM serve_rows r WHERE {where}", args).fetchone()[0]
    column = SORTS[query.sort]
    direction = "DESC" if query.descending else "ASC"
    order = f"r.{column} {direction}, r.example_id" if column != "example_id" else f"r.example_id {direction}"
    offset = (query.page - 1) * query.size
    found = db.execute(f"SELECT r.example_id, r.label, r.truth, r.predicted, r.confidence, r.correct FROM serve_rows r "
                       f"WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?", args + [query.size, offset]).fetchall()
    raw = _inputs(db, run_id, [r[0] for r in found])
    rows = [Row(e, raw.get(e, ""), label, truth, pred, conf, None if correct is None else bool(correct))
            for e, label, truth, pred, conf, correct in found]
    notes = [] if state(db, run_id) == "current" else ["the run has changed since it was indexed; re-index it to "
                                                       "see its new examples and predictions."]
    return Page(rows, int(total), query, True, notes=notes)


def _unindexed_page(db: sqlite3.Connection, run_id: str, query: Query) -> Page:
    total = db.execute("SELECT COUNT(*) FROM examples WHERE run_id=?", (run_id,)).fetchone()[0]
    direction = "DESC" if query.descending and query.sort == "example_id" else "ASC"
    found = db.execute(f"SELECT example_id, input, label FROM examples WHERE run_id=? ORDER BY example_id {direction} "
                       "LIMIT ? OFFSET ?", (run_id, query.size, (query.page - 1) * query.size)).fetchall()
    ids = [r[0] for r in found]
    probs = {}
    if ids:
        marks = ",".join("?" * len(ids))
        probs = {e: json.loads(p) for e, p, _ in db.execute(
            f"SELECT example_id, probs, MIN(method) FROM attributions WHERE run_id=? AND example_id IN ({marks}) "
            "GROUP BY example_id", [run_id, *ids])}
    labels = json.loads(db.execute("SELECT labels FROM runs WHERE run_id=?", (run_id,)).fetchone()[0] or "null") or []
    rows = []
    for e, raw, label in found:
        p = np.asarray(probs[e]) if e in probs else None
        truth, pred = class_index(label, labels), (int(p.argmax()) if p is not None else None)
        rows.append(Row(e, raw, label, truth, pred, float(p[pred]) if pred is not None else None,
                        None if pred is None or truth is None else pred == truth))
    notes = ["sorting, filters, search and slices need the run's index, which is being built."] \
        if query.filtered or query.sort != "example_id" else []
    return Page(rows, int(total), query, False, notes=notes)


def _inputs(db: sqlite3.Connection, run_id: str, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    return dict(db.execute(f"SELECT example_id, input FROM examples WHERE run_id=? AND example_id IN ({marks})",
                           [run_id, *ids]))

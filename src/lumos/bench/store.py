"""The results store: one SQLite file, readable with plain SQL and as pandas DataFrames.

Each unit of work (a batch of examples x one method) is written in ONE transaction together with its
attributions, scores, timing and forward-pass counts, so a process killed at any moment (kill -9 included)
leaves either the whole unit or nothing; WAL journaling with synchronous=FULL keeps the file consistent.

Opening checks the file: a missing file is created only by writers (``create=True``: the bench, sections),
never by readers (the report); a file that is not SQLite, a SQLite file that is not a lumos store, and a
damaged one (``PRAGMA quick_check``) are InputErrors that say so and what to do.
"""

from __future__ import annotations

import io
import json
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

import numpy as np

from ..errors import InputError

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, spec TEXT NOT NULL, created REAL NOT NULL, modality TEXT,
    labels TEXT, lumos_version TEXT);
CREATE TABLE IF NOT EXISTS examples (
    run_id TEXT NOT NULL, example_id INTEGER NOT NULL, input TEXT NOT NULL, label TEXT, rationale TEXT,
    PRIMARY KEY (run_id, example_id));
CREATE TABLE IF NOT EXISTS units (
    run_id TEXT NOT NULL, method TEXT NOT NULL, unit INTEGER NOT NULL, first_example INTEGER NOT NULL,
    n_examples INTEGER NOT NULL, explain_seconds REAL, metric_seconds REAL, forward_rows INTEGER,
    forward_calls INTEGER, finished REAL, PRIMARY KEY (run_id, method, unit));
CREATE TABLE IF NOT EXISTS attributions (
    run_id TEXT NOT NULL, example_id INTEGER NOT NULL, method TEXT NOT NULL, target INTEGER NOT NULL,
    probs TEXT NOT NULL, features TEXT, attributions BLOB NOT NULL, extras TEXT,
    PRIMARY KEY (run_id, example_id, method));
CREATE TABLE IF NOT EXISTS scores (
    run_id TEXT NOT NULL, example_id INTEGER NOT NULL, method TEXT NOT NULL, metric TEXT NOT NULL,
    value REAL, PRIMARY KEY (run_id, example_id, method, metric));
CREATE TABLE IF NOT EXISTS sections (
    run_id TEXT NOT NULL, kind TEXT NOT NULL, title TEXT NOT NULL, payload TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY (run_id, kind));
CREATE TABLE IF NOT EXISTS fingerprints (run_id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL);
"""
TABLES = ("meta", "runs", "examples", "units", "attributions", "scores", "sections")
SQLITE_HEADER = b"SQLite format 3\x00"


def check_file(path: Path, create: bool) -> bool:
    """True when ``path`` is missing and may be created; an InputError for a missing file a reader asked for,
    a folder, or a file that is not SQLite (judged by its header)."""
    if not path.exists():
        if not create:
            raise InputError(f"no results database at {path}; run `lumos bench` first, or pass --db with the file "
                             "it wrote.")
        return True
    if not path.is_file():
        raise InputError(f"{path} is a folder, not a results database file; pass the .sqlite file with --db.")
    with open(path, "rb") as f:
        head = f.read(len(SQLITE_HEADER))
    if head and head != SQLITE_HEADER:
        raise InputError(f"{path} is not an SQLite database (it starts with {head[:8]!r}); pass the file `lumos "
                         "bench` wrote with --db, or another path for a new one.")
    return False


def to_blob(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)
    return buf.getvalue()


def from_blob(blob: bytes) -> np.ndarray:
    return np.load(io.BytesIO(blob), allow_pickle=False)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    return repr(value)


def dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default, sort_keys=True)


class Store:
    """A SQLite results database. ``create=True`` (writers) makes the file and its folder when missing;
    readers (the default) never create anything and get an InputError for a missing file."""

    def __init__(self, path: str | Path, create: bool = False):
        self.path = Path(path)
        fresh = check_file(self.path, create)
        if fresh:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # mode=rw for an existing file: a reader leaves no -wal/-shm behind (the last close removes them)
        self.db = sqlite3.connect(f"file:{quote(str(self.path.resolve()))}?mode={'rwc' if fresh else 'rw'}",
                                  uri=True, timeout=60, isolation_level=None)
        try:
            self._open(fresh or create)
        except sqlite3.DatabaseError as e:
            self.db.close()
            raise InputError(f"{self.path} is not a usable lumos results database ({e}); it may be damaged. "
                             "Restore it from a copy, or write to another file with --db.") from None
        except BaseException:
            self.db.close()
            raise

    def _open(self, writer: bool) -> None:
        problems = [r[0] for r in self.db.execute("PRAGMA quick_check").fetchall()]
        if problems != ["ok"]:
            raise sqlite3.DatabaseError(f"integrity check: {'; '.join(problems[:3])}")
        have = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        missing = [t for t in TABLES if t not in have]
        if missing and (have or not writer):  # a writer may start an empty file; anything else must be a store
            raise InputError(f"{self.path} is an SQLite file but not a lumos results database (no "
                             f"{', '.join(missing)} table); pass the file `lumos bench` wrote with --db.")
        if writer:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            with self.transaction():
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        self.db.execute(statement)
                if self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() is None:
                    self.db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None or row[0] != str(SCHEMA_VERSION):
            raise InputError(f"{self.path} has schema version {row[0] if row else 'none'}; this lumos reads "
                             f"version {SCHEMA_VERSION}. Use another --db path.")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----- writing ------------------------------------------------------------------------------------
    def ensure_run(self, run_id: str, spec: dict, modality: str, labels: list[str] | None, version: str,
                   fingerprint: dict | None = None) -> bool:
        """Create the run (with what it is made with, ``fingerprint``) if new; True when it already existed
        (a resumed run)."""
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM runs WHERE run_id=?", (run_id,)).fetchone():
                return True
            db.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?)",
                       (run_id, dumps(spec), time.time(), modality, dumps(labels), version))
            if fingerprint is not None:
                db.execute("INSERT OR REPLACE INTO fingerprints VALUES (?, ?)", (run_id, dumps(fingerprint)))
            return False

    def fingerprint(self, run_id: str) -> dict | None:
        """What the run was made with (``lumos.bench.fingerprint``), or None for runs made before fingerprints."""
        row = self.db.execute("SELECT fingerprint FROM fingerprints WHERE run_id=?", (run_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def set_fingerprint(self, run_id: str, fingerprint: dict) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO fingerprints VALUES (?, ?)", (run_id, dumps(fingerprint)))

    def add_examples(self, run_id: str, rows: list[tuple[int, str, str | None, str | None]]) -> None:
        with self.transaction() as db:
            db.executemany("INSERT OR IGNORE INTO examples VALUES (?, ?, ?, ?, ?)",
                           [(run_id, *r) for r in rows])

    def done_units(self, run_id: str) -> set[tuple[str, int]]:
        return {(m, u) for m, u in self.db.execute("SELECT method, unit FROM units WHERE run_id=?", (run_id,))}

    def write_unit(self, run_id: str, method: str, unit: int, first: int, explanations: list[dict],
                   scores: list[tuple[int, str, float]], timing: dict[str, float]) -> None:
        """One transaction: the unit's attributions, scores and bookkeeping, or nothing at all."""
        with self.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO attributions VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
                (run_id, e["example_id"], method, e["target"], dumps(e["probs"]), dumps(e["features"]),
                 to_blob(e["attributions"]), dumps(e["extras"])) for e in explanations])
            db.executemany("INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?, ?)",
                           [(run_id, ex, method, metric, None if not np.isfinite(v) else float(v))
                            for ex, metric, v in scores])
            db.execute("INSERT OR REPLACE INTO units VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (run_id, method, unit, first, len(explanations), timing["explain_seconds"],
                        timing["metric_seconds"], int(timing["forward_rows"]), int(timing["forward_calls"]),
                        time.time()))

    def add_section(self, run_id: str, kind: str, title: str, payload: dict) -> None:
        """Store (or replace) a report section of ``run_id``: ``payload`` is JSON data that the report's
        ``sections/<kind>.html`` template draws (or, without one, ``sections/tables.html``)."""
        with self.transaction() as db:
            if not db.execute("SELECT 1 FROM runs WHERE run_id=?", (run_id,)).fetchone():
                raise InputError(f"no run {run_id!r} in {self.path}; create it with ensure_run first.")
            db.execute("INSERT OR REPLACE INTO sections VALUES (?, ?, ?, ?, ?)",
                       (run_id, kind, title, dumps(payload), time.time()))

    # ----- reading ------------------------------------------------------------------------------------
    def runs(self):
        import pandas as pd

        return pd.read_sql_query("SELECT run_id, created, modality, spec FROM runs ORDER BY created", self.db)

    def frame(self, table: str, run_id: str, examples: tuple[int, int] | None = None):
        """A table of one run as a DataFrame (attributions decoded to arrays, JSON columns parsed);
        ``examples=(lo, hi)``: only the rows of examples lo .. hi - 1 (not for ``units``)."""
        import pandas as pd

        if table not in ("examples", "units", "attributions", "scores"):
            raise InputError(f"unknown table {table!r}; use examples, units, attributions or scores.")
        where, params = "run_id=?", (run_id,)
        if examples is not None:
            if table == "units":
                raise InputError("units are not kept per example; read the units table whole.")
            where, params = where + " AND example_id >= ? AND example_id < ?", (run_id, *map(int, examples))
        try:
            df = pd.read_sql_query(f"SELECT * FROM {table} WHERE {where}", self.db, params=params)
        except (sqlite3.DatabaseError, pd.errors.DatabaseError) as e:
            raise InputError(f"cannot read {table} of run {run_id!r} from {self.path} ({e}); the file may be "
                             "damaged.") from None
        for col in ("probs", "features", "extras", "rationale"):
            if col in df:
                df[col] = df[col].map(lambda v: self._json(v, f"{table}.{col} of run {run_id!r}")
                                      if isinstance(v, str) else v)
        if "attributions" in df:
            df["attributions"] = df["attributions"].map(lambda b: self._array(b, f"attributions of run {run_id!r}"))
        return df

    def chunks(self, table: str, run_id: str, examples: int = 10_000) -> Iterator[Any]:
        """``frame(table, run_id)`` a range of ``examples`` example ids at a time (every method's rows of an
        example in the same chunk), so a run over a million examples is read in bounded memory."""
        if table not in ("examples", "attributions", "scores"):
            raise InputError(f"{table!r} has no example ids to read in chunks; use examples, attributions or scores.")
        lo, hi = self.db.execute(f"SELECT MIN(example_id), MAX(example_id) FROM {table} WHERE run_id=?",
                                 (run_id,)).fetchone()
        for first in range(0 if lo is None else lo, 0 if hi is None else hi + 1, examples):
            yield self.frame(table, run_id, (first, first + examples))

    def _json(self, value: str, where: str) -> Any:
        try:
            return json.loads(value)
        except ValueError as e:
            raise InputError(f"{self.path}: {where} holds invalid JSON ({e}); the file was edited or "
                             "damaged.") from None

    def _array(self, blob: Any, where: str) -> np.ndarray:
        try:
            return from_blob(blob)
        except (ValueError, TypeError, OSError) as e:
            raise InputError(f"{self.path}: {where} holds an unreadable array ({e}); the file was edited or "
                             "damaged.") from None

    def sections(self, run_id: str) -> list[dict]:
        """The run's report sections in the order they were added: dicts with kind, title and payload."""
        rows = self.db.execute("SELECT kind, title, payload FROM sections WHERE run_id=? ORDER BY created",
                               (run_id,)).fetchall()
        return [{"kind": str(k), "title": str(t), "payload": self._json(p, f"section {k!r} of run {run_id!r}")}
                for k, t, p in rows]

    def latest_run(self) -> str:
        row = self.db.execute("SELECT run_id FROM runs ORDER BY created DESC LIMIT 1").fetchone()
        if row is None:
            raise InputError(f"{self.path} holds no runs yet; run `lumos bench` first.")
        return row[0]

"""Long work (a bench, a robustness run, indexing a large run) as background jobs whose state and progress live
in the run store (table ``serve_jobs``), so a page reload, another browser or ``sqlite3`` sees the same progress.

One worker thread runs the jobs one after another. A task is a function ``(params, progress) -> run_id or
None``; ``progress(stage, done, total)`` writes to the store (at most a few times a second) and raises
``Cancelled`` once the job was cancelled. A job that was running when its server stopped is marked
"interrupted" when the next server opens the store; a bench can be started again and resumes where it stopped.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable

from ..bench.store import Store
from ..errors import InputError, LumosError

SCHEMA = """
CREATE TABLE IF NOT EXISTS serve_jobs (
    job_id TEXT PRIMARY KEY, kind TEXT NOT NULL, params TEXT NOT NULL, status TEXT NOT NULL, stage TEXT,
    done INTEGER NOT NULL DEFAULT 0, total INTEGER NOT NULL DEFAULT 0, message TEXT, run_id TEXT, owner TEXT,
    created REAL NOT NULL, updated REAL NOT NULL)
"""
ACTIVE = ("queued", "running")
Progress = Callable[[str, int, int], None]
Task = Callable[[dict[str, Any], Progress], "str | None"]
log = logging.getLogger("lumos.serve")


class Cancelled(Exception):
    """Raised inside a task by its progress callback once the job was cancelled."""


def ensure_schema(store: Store) -> None:
    store.db.execute(SCHEMA)


def job_row(store: Store, job_id: str) -> dict[str, Any] | None:
    """A job as a dict (params parsed), or None."""
    cur = store.db.execute("SELECT * FROM serve_jobs WHERE job_id=?", (job_id,))
    row = cur.fetchone()
    if row is None:
        return None
    job = dict(zip([c[0] for c in cur.description], row))
    job["params"] = json.loads(job["params"])
    return job


def recent(store: Store, limit: int = 20, run_id: str | None = None) -> list[dict[str, Any]]:
    """The latest jobs, newest first (of one run when ``run_id`` is given)."""
    where, args = ("WHERE run_id=?", [run_id]) if run_id else ("", [])
    ids = [r[0] for r in store.db.execute(f"SELECT job_id FROM serve_jobs {where} ORDER BY created DESC LIMIT ?",
                                          args + [limit])]
    return [job for job in (job_row(store, i) for i in ids) if job is not None]


class Jobs:
    """The job queue of one server over the store at ``db``; ``tasks`` maps a kind to its function."""

    def __init__(self, db: str | Path, tasks: dict[str, Task]):
        self.db, self.tasks = Path(db), tasks
        self.owner = uuid.uuid4().hex
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._cancelled: set[str] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        store = Store(self.db)
        try:
            ensure_schema(store)
            with store.transaction() as db:
                db.execute("UPDATE serve_jobs SET status='interrupted', message='the server stopped while it ran; "
                           "start it again (a bench resumes where it stopped)', updated=? "
                           f"WHERE status IN {ACTIVE} AND (owner IS NULL OR owner != ?)", (time.time(), self.owner))
        finally:
            store.close()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="lumos-serve-jobs", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel what is queued or running and let the worker end."""
        if self._thread is not None:
            store = Store(self.db)
            try:
                for job in recent(store, 1000):
                    if job["status"] in ACTIVE and job["owner"] == self.owner:
                        self.cancel(job["job_id"])
            finally:
                store.close()
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def submit(self, store: Store, kind: str, params: dict[str, Any], run_id: str | None = None) -> str:
        """Queue a job; returns its id."""
        if kind not in self.tasks:
            raise InputError(f"unknown job kind {kind!r}; the workbench runs {', '.join(self.tasks)}.")
        job_id = f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        now = time.time()
        with store.transaction() as db:
            db.execute("INSERT INTO serve_jobs (job_id, kind, params, status, stage, run_id, owner, created, updated) "
                       "VALUES (?, ?, ?, 'queued', 'waiting for the worker', ?, ?, ?, ?)",
                       (job_id, kind, json.dumps(params, sort_keys=True), run_id, self.owner, now, now))
        self.start()
        self._queue.put(job_id)
        return job_id

    def cancel(self, job_id: str) -> None:
        with self._lock:
            self._cancelled.add(job_id)

    def _work(self) -> None:
        store = Store(self.db)
        try:
            while True:
                job_id = self._queue.get()
                if job_id is None:
                    return
                self._run(store, job_id)
        finally:
            store.close()

    def _update(self, store: Store, job_id: str, **fields: Any) -> None:
        fields["updated"] = time.time()
        sets = ", ".join(f"{k}=?" for k in fields)
        with store.transaction() as db:
            db.execute(f"UPDATE serve_jobs SET {sets} WHERE job_id=?", [*fields.values(), job_id])

    def _run(self, store: Store, job_id: str) -> None:
        job = job_row(store, job_id)
        if job is None:
            return
        if job_id in self._cancelled:
            return self._update(store, job_id, status="cancelled", stage="cancelled before it started")
        self._update(store, job_id, status="running", stage="starting")
        last = [0.0]

        def progress(stage: str, done: int, total: int) -> None:
            if job_id in self._cancelled:
                raise Cancelled()
            now = time.monotonic()
            if now - last[0] >= 0.2 or done >= total:
                last[0] = now
                self._update(store, job_id, stage=str(stage)[:200], done=int(done), total=int(total))

        try:
            run_id = self.tasks[job["kind"]](job["params"], progress)
        except Cancelled:
            self._update(store, job_id, status="cancelled", stage="cancelled")
        except LumosError as e:
            self._update(store, job_id, status="failed", message=str(e)[:2000])
        except Exception as e:  # noqa: BLE001 - a task's failure is the job's state, shown on its page
            log.exception("job %s failed", job_id)
            self._update(store, job_id, status="failed", message=f"{type(e).__name__}: {e}"[:2000])
        else:
            fields: dict[str, Any] = {"status": "done", "stage": ""}
            if run_id:
                fields["run_id"] = run_id
            current = job_row(store, job_id)
            if current and current["total"]:
                fields["done"] = current["total"]
            else:
                fields.update(done=1, total=1)
            self._update(store, job_id, **fields)

"""The state of one ``lumos serve``: its store, the models it may load (loaded once, on first use), the
language model for "why?", the counterfactual set-ups, and the background jobs."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..bench.store import Store
from ..errors import UnsupportedError
from . import index, jobs, metrics, slices
from .live import LiveModel, live_model
from .pages import reliability_chart
from .security import Refused, check_run_id


@dataclass(frozen=True)
class Settings:
    """``models``: names given on the command line (zoo names, "groundtruth/tfidf" or "package.module:function");
    a loader function is only ever imported when named here. ``influence_rows``: training rows influence
    reads. ``index_inline``: runs up to this many examples are indexed inside the request, larger ones by a job."""

    models: tuple[str, ...] = ()
    max_upload: int = 8 * 2**20
    max_body: int = 2**20
    influence_rows: int = 1000
    index_inline: int = 2000


@dataclass
class RunInfo:
    run_id: str
    model: str
    modality: str
    labels: list[str]
    spec: dict[str, Any]
    created: float


class Workbench:
    """Everything the routes share. ``generator``: the language model for "why?" (default: the local SmolLM2,
    loaded on the first question); ``load``: name -> (model, splits) (default:
    ``bench.data.load_model_and_splits``)."""

    def __init__(self, db: str | Path, settings: Settings = Settings(), generator: Any = None,
                 load: Callable[[str], tuple[Any, dict]] | None = None):
        self.db = Path(db)
        self.settings = settings
        self._generator = generator
        self._load = load
        self._local = threading.local()
        self._models: dict[str, LiveModel] = {}
        self._model_locks: dict[str, threading.RLock] = {}
        self._lock = threading.Lock()
        self.counterfactual_setups: dict[str, Any] = {}
        self.run_pages: dict[tuple, str] = {}  # the report's drawing of a run, until the run changes
        self.table_performance: dict[tuple, Any] = {}  # a selection's performance and chart, per index build
        self.jobs = jobs.Jobs(self.db, {"bench": self._bench_task, "robustness": self._robustness_task,
                                        "index": self._index_task})

    # ----- the store --------------------------------------------------------------------------------------
    def store(self) -> Store:
        """This thread's connection to the store (the workbench's tables created on first use)."""
        store = getattr(self._local, "store", None)
        if store is None:
            store = Store(self.db)
            index.ensure_schema(store.db)
            jobs.ensure_schema(store)
            self._local.store = store
        return store

    def run(self, run_id: str) -> RunInfo:
        """A run of the store (a 404 for one it does not hold)."""
        return self._run_in(self.store(), check_run_id(run_id))

    # ----- models -----------------------------------------------------------------------------------------
    def may_load(self, name: str) -> bool:
        """Names from the command line, and zoo names (a "package.module:function" only from the command line)."""
        if name in self.settings.models:
            return True
        if ":" in name or not name:
            return False
        from .. import zoo

        return name in zoo.names() or name == "groundtruth/tfidf"

    def model_names(self) -> list[str]:
        """The names the job forms offer: the command line's first, then the zoo's."""
        from .. import zoo

        return list(dict.fromkeys([*self.settings.models, *zoo.names(), "groundtruth/tfidf"]))

    def live_name(self, run: RunInfo, asked: str | None = None) -> str | None:
        """The model for live work on ``run``: the one asked for, else the run's own, else the first given."""
        for name in (asked, run.model, *self.settings.models):
            if name and self.may_load(name):
                return name
        return None

    def model(self, name: str) -> LiveModel:
        """The model ``name``, loaded on first use (a zoo model may be trained then)."""
        if not self.may_load(name):
            raise UnsupportedError(f"the workbench may not load {name!r}: start it with lumos serve --model {name} "
                                   "(a package.module:function loader is only imported when named there).")
        with self._lock:
            lock = self._model_locks.setdefault(name, threading.RLock())
        with lock:
            if name not in self._models:
                from ..bench.data import load_model_and_splits

                model, splits = (self._load or load_model_and_splits)(name)
                self._models[name] = live_model(name, model, splits)
        return self._models[name]

    def model_lock(self, name: str) -> threading.RLock:
        """Held while a request uses the model (its counters and eval mode are not shared between threads)."""
        with self._lock:
            return self._model_locks.setdefault(name, threading.RLock())

    @property
    def generator(self) -> Any:
        """The language model for "why?" (the local SmolLM2 unless one was given)."""
        with self._lock:
            if self._generator is None:
                from ..nle import LocalGenerator

                self._generator = LocalGenerator()
            return self._generator

    # ----- the index --------------------------------------------------------------------------------------
    def ensure_index(self, run: RunInfo) -> str | None:
        """Build a missing index now (small runs) or start a job for it (large ones, or a stale index); returns
        the job id when one was started or is running."""
        store = self.store()
        current = index.state(store.db, run.run_id)
        if current == "current":
            return None
        running = [j for j in jobs.recent(store, 50, run.run_id) if j["kind"] == "index" and j["status"] in jobs.ACTIVE]
        if running:
            return running[0]["job_id"]
        n, _ = index.counts(store.db, run.run_id)
        if current == "missing" and n <= self.settings.index_inline:
            self.index_run(store, run, None)
            return None
        return self.jobs.submit(store, "index", {"run_id": run.run_id}, run.run_id)

    def index_run(self, store: Store, run: RunInfo, progress: Callable[[str, int, int], None] | None) -> None:
        arrays = index.build(store, run.run_id, run.modality, run.labels, progress)
        if progress:
            progress("finding slices", 0, 1)
        slices.build(store, run.run_id, run.modality, arrays)
        self.selection_performance(run, index.Query(), store=store)  # the first page's panel, ready

    # ----- job tasks --------------------------------------------------------------------------------------
    def _bench_task(self, params: dict[str, Any], progress: Callable[[str, int, int], None]) -> str:
        from ..bench import BenchSpec, run

        if not self.may_load(params["model"]):
            raise UnsupportedError(f"the workbench may not load {params['model']!r}.")
        progress(f"loading {params['model']}", 0, 1)
        spec = BenchSpec(model=params["model"], split=params.get("split", "test"), n=int(params.get("n", 50)),
                         methods=tuple(params.get("methods") or ("all",)), metrics=tuple(params.get("metrics") or
                                                                                         ("all",)),
                         seed=int(params.get("seed", 0)), unit_size=int(params.get("unit_size", 10)),
                         db=str(self.db))
        run_id = run(spec, progress=lambda label, done, total: progress(f"explaining: {label}", done, total))
        store = Store(self.db)
        try:
            self.index_run(store, self._run_in(store, run_id), progress)
        finally:
            store.close()
        return run_id

    def _robustness_task(self, params: dict[str, Any], progress: Callable[[str, int, int], None]) -> str:
        from ..bench import add_section
        from ..bench.data import load_model_and_splits
        from ..robustness import RobustnessPlan, stress_test

        name = params["model"]
        if not self.may_load(name):
            raise UnsupportedError(f"the workbench may not load {name!r}.")
        progress(f"loading {name}", 0, 1)
        model, splits = (self._load or load_model_and_splits)(name)
        live = live_model(name, model, splits)
        steps = {"text": 6, "image": 4, "tabular": 3}[live.modality]
        said = [0]

        def say(line: str) -> None:
            said[0] += 1
            progress(line, min(said[0], steps), steps)

        plan = RobustnessPlan(budget=int(params.get("budget", 200)), seed=int(params.get("seed", 0)),
                              n_suite=int(params.get("n", 200)), n_attack=min(25, int(params.get("n", 200))),
                              n_slices=int(params.get("n", 200)))
        result = stress_test(live.model, splits["test"], plan, say)
        run_id = f"robustness-{name.replace('/', '-').replace(':', '-')}-{time.strftime('%Y%m%d-%H%M%S')}"
        add_section(self.db, run_id, "robustness", result, model_name=name, split="test", modality=result.modality,
                    labels=list(live.model.labels or []), seed=plan.seed)
        return run_id

    def selection_performance(self, run: RunInfo, query: index.Query, threshold: float | None = None,
                              cost: float = 1.0, store: Store | None = None) -> tuple[Any, Any]:
        """(``metrics.Performance``, reliability chart) of the examples ``query`` selects, computed once per
        index build and selection: paging and sorting reuse them (on 100,000 examples they take most of a
        second). An index build computes the whole run's at its end."""
        db = (store or self.store()).db
        built = db.execute("SELECT built FROM serve_index WHERE run_id=?", (run.run_id,)).fetchone()
        where, args = index.filters(run.run_id, query)
        threshold = threshold if len(run.labels) == 2 else None
        key = (run.run_id, built, where, tuple(args), threshold, cost)
        with self._lock:
            found = self.table_performance.get(key)
        if found is None:
            shown = metrics.performance(db, run.run_id, query, run.labels, threshold, cost)
            found = (shown, reliability_chart(shown))
            with self._lock:
                self.table_performance[key] = found
                while len(self.table_performance) > 64:
                    self.table_performance.pop(next(iter(self.table_performance)))
        return found

    def _index_task(self, params: dict[str, Any], progress: Callable[[str, int, int], None]) -> str:
        store = Store(self.db)
        try:
            run = self._run_in(store, params["run_id"])
            self.index_run(store, run, progress)
        finally:
            store.close()
        return run.run_id

    @staticmethod
    def _run_in(store: Store, run_id: str) -> RunInfo:
        row = store.db.execute("SELECT spec, modality, labels, created FROM runs WHERE run_id=?", (run_id,)).fetchone()
        if row is None:
            raise Refused(404, f"no run {run_id!r} in {Path(store.path).name}; the runs list shows the ones there are.")
        spec = json.loads(row[0])
        return RunInfo(run_id, str(spec.get("model", "")), row[1] or "", json.loads(row[2] or "null") or [], spec,
                       row[3])

    def close(self) -> None:
        self.jobs.stop()
        store = getattr(self._local, "store", None)
        if store is not None:
            store.close()
            self._local.store = None

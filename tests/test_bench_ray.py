"""The Ray backend of the bench on a local 2-CPU Ray cluster: the local runner's results, the model loaded once
per worker, a worker killed mid-unit retried with nothing lost or duplicated, a failing unit reported as the local
runner reports it, a killed driver resumed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lumos.bench import BenchSpec, Store, run
from lumos.bench.runner import RunIncomplete

TESTS = Path(__file__).parent
SRC = TESTS.parent / "src"
sys.path.insert(0, str(TESTS))
METHODS = ("occlusion", "kernel_shap")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A local Ray with 2 CPUs whose workers import lumos and the test loaders; yields (address, shared dir)."""
    try:
        import ray
    except ImportError:
        pytest.fail("ray is missing: install the ray extra (make test does)")
    shared = tmp_path_factory.mktemp("ray-shared")
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "LUMOS_TEST_DIR")}
    os.environ["PYTHONPATH"] = os.pathsep.join([str(SRC), str(TESTS)] + [p for p in [saved["PYTHONPATH"]] if p])
    os.environ["LUMOS_TEST_DIR"] = str(shared)  # the workers inherit both
    ray.init(address="local", num_cpus=2, include_dashboard=False, object_store_memory=100 * 2**20,
             log_to_driver=False)
    try:
        yield ray.get_runtime_context().gcs_address, shared
    finally:
        ray.shutdown()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def spec(db: Path, model: str = "scale_loader:counted_word_model", **kw) -> BenchSpec:
    settings = dict(n=20, methods=METHODS, metrics=("comprehensiveness", "token_f1"), unit_size=5,
                    params={"kernel_shap": {"n_samples": 64}})
    return BenchSpec(model=model, db=str(db), **{**settings, **kw})


def stored(db: Path, run_id: str) -> dict[str, pd.DataFrame]:
    """A run's tables, sorted, without what differs between two runs of one spec: times, run ids, and the
    number of forward calls (the "auto" batch size is chosen by timing, models/batching.py; rows are fixed)."""
    keys = {"examples": ["example_id"], "attributions": ["method", "example_id"],
            "scores": ["method", "metric", "example_id"], "units": ["method", "unit"]}
    store = Store(db)
    try:
        out = {t: store.frame(t, run_id).sort_values(k).reset_index(drop=True).drop(columns="run_id")
               for t, k in keys.items()}
    finally:
        store.close()
    out["units"] = out["units"].drop(columns=["explain_seconds", "metric_seconds", "finished", "forward_calls"])
    return out


def assert_same_results(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for table in a:
        x, y = a[table], b[table]
        assert list(x.columns) == list(y.columns) and len(x) == len(y), table
        for column in x:
            if column == "attributions":
                for u, v in zip(x[column], y[column]):
                    np.testing.assert_array_equal(u, v)
            else:
                assert x[column].tolist() == y[column].tolist(), (table, column)


def loads(shared: Path) -> Counter:
    path = shared / "loads"
    counts = Counter(int(p) for p in path.read_text().split()) if path.exists() else Counter()
    path.unlink(missing_ok=True)
    return counts


@pytest.mark.parametrize("model", ["scale_loader:counted_word_model", "scale_loader:counted_tabular_model"])
def test_ray_stores_the_local_results_and_each_worker_loads_the_model_once(cluster, tmp_path, model):
    _, shared = cluster
    extra = {} if "word" in model else {"metrics": ("comprehensiveness",)}  # tables: background rows
    local = run(spec(tmp_path / "local.sqlite", model, **extra))
    loads(shared)
    remote = run(spec(tmp_path / "ray.sqlite", model, **extra), backend="ray")
    assert remote == local
    assert_same_results(stored(tmp_path / "local.sqlite", local), stored(tmp_path / "ray.sqlite", remote))
    by_process = loads(shared)
    assert by_process.pop(os.getpid()) == 1  # the driver reads the model's labels and modality
    assert by_process and set(by_process.values()) == {1}  # 8 units, each worker loaded the model once
    with sqlite3.connect(tmp_path / "ray.sqlite") as db:
        assert db.execute("SELECT COUNT(*), COUNT(DISTINCT method || unit) FROM units").fetchone() == (8, 8)


def test_a_worker_killed_mid_unit_is_retried_and_nothing_is_lost_or_doubled(cluster, tmp_path):
    _, shared = cluster
    local = run(spec(tmp_path / "local.sqlite", "scale_loader:dying_word_model"))
    (shared / "kill").write_text(str(os.getpid()))
    remote = run(spec(tmp_path / "ray.sqlite", "scale_loader:dying_word_model"), backend="ray")
    killed = int((shared / "killed").read_text())
    assert not (shared / "kill").exists() and killed != os.getpid()
    with pytest.raises(ProcessLookupError):
        os.kill(killed, 0)  # the worker is gone: Ray ran its unit again elsewhere
    assert_same_results(stored(tmp_path / "local.sqlite", local), stored(tmp_path / "ray.sqlite", remote))
    with sqlite3.connect(tmp_path / "ray.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM units").fetchone() == (8,)
        assert db.execute("SELECT COUNT(*) FROM attributions").fetchone() == (40,)


def test_a_unit_failing_on_a_worker_fails_as_it_does_here_and_the_others_are_stored(cluster, tmp_path):
    failed, run_ids = {}, {}
    for backend in ("local", "ray"):
        with pytest.raises(RunIncomplete) as caught:
            run(spec(tmp_path / f"{backend}.sqlite", "scale_loader:failing_word_model"), backend=backend)
        assert all("ModelError" in line and "refuses to answer" in line for line in caught.value.failures)
        failed[backend] = sorted(line.split(": ")[0] for line in caught.value.failures)  # "METHOD on examples A..B"
        run_ids[backend] = caught.value.run_id
    assert failed["ray"] == failed["local"] and 0 < len(failed["ray"]) < 8
    assert_same_results(stored(tmp_path / "local.sqlite", run_ids["local"]),
                        stored(tmp_path / "ray.sqlite", run_ids["ray"]))
    with sqlite3.connect(tmp_path / "ray.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM units").fetchone() == (8 - len(failed["ray"]),)


@pytest.mark.slow
def test_a_killed_driver_resumes_where_it_stopped(cluster, tmp_path):
    """`lumos bench --backend ray --address` in a process killed with SIGKILL, then the same spec again."""
    address, _ = cluster
    db = tmp_path / "killed.sqlite"
    args = ["--model", "scale_loader:slow_word_model", "--n", "30", "--methods", "occlusion,random",
            "--metrics", "comprehensiveness", "--unit-size", "5", "--db", str(db), "--no-report"]
    proc = subprocess.Popen([sys.executable, "-m", "lumos.cli", "bench", *args, "--backend", "ray",
                             "--address", address], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finished = 0
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if db.exists():
            with sqlite3.connect(db, timeout=30) as con:
                try:
                    finished = con.execute("SELECT COUNT(*) FROM units").fetchone()[0]
                except sqlite3.OperationalError:
                    pass
            if finished >= 3:
                break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        finished = con.execute("SELECT COUNT(*) FROM units").fetchone()[0]
        assert con.execute("SELECT COUNT(*) FROM attributions").fetchone()[0] == 5 * finished
    assert 3 <= finished < 12
    resumed = BenchSpec(model="scale_loader:slow_word_model", n=30, methods=("occlusion", "random"),
                        metrics=("comprehensiveness",), unit_size=5, db=str(db))
    done = []
    run_id = run(resumed, progress=lambda label, d, t: done.append(d), backend="ray")
    assert done[0] == 5 * finished  # resumed where it stopped (progress counts examples x methods)
    reference = BenchSpec(model="bench_loader:word_model", n=30, methods=("occlusion", "random"),
                          metrics=("comprehensiveness",), unit_size=5, db=str(tmp_path / "local.sqlite"))
    assert_same_results(stored(tmp_path / "local.sqlite", run(reference)), stored(db, run_id))

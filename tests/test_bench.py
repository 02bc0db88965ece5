"""The bench runner and its store: units committed as they finish, resumable, safe under kill -9."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lumos.bench import BenchSpec, Store, run

TESTS = Path(__file__).parent
sys.path.insert(0, str(TESTS))
METHODS = ("occlusion", "kernel_shap", "random")


def spec(db: Path, model: str = "bench_loader:word_model", **kw) -> BenchSpec:
    return BenchSpec(model=model, n=30, methods=METHODS, metrics=("comprehensiveness", "token_f1"),
                     unit_size=5, params={"kernel_shap": {"n_samples": 64}}, db=str(db), **kw)


def test_a_run_stores_every_result_readable_as_frames(tmp_path):
    s = spec(tmp_path / "r.sqlite")
    run_id = run(s)
    store = Store(s.db)
    units = store.frame("units", run_id)
    attributions = store.frame("attributions", run_id)
    scores = store.frame("scores", run_id)
    assert len(units) == 3 * 6 and len(attributions) == 3 * 30 and len(scores) == 3 * 30 * 2
    occ = attributions[attributions.method == "occlusion"].set_index("example_id").sort_index()
    assert occ.features[0] == ["a", "good", "film"]
    np.testing.assert_allclose(occ.attributions[0], [0, 0.3, 0], atol=1e-6)  # the additive word model
    assert (units.forward_rows > 0).all() and (units.explain_seconds >= 0).all()
    assert units.set_index(["method", "unit"]).loc[("random", 0), "forward_rows"] == 5  # only the predictions
    # plain SQL works too
    with sqlite3.connect(s.db) as db:
        assert db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == ("1",)
        assert db.execute("SELECT COUNT(*) FROM scores WHERE metric='token_f1'").fetchone() == (90,)


def test_rerunning_the_same_spec_skips_finished_units(tmp_path):
    s = spec(tmp_path / "r.sqlite")
    first = run(s)
    seen = []
    assert run(s, progress=lambda label, done, total: seen.append((label, done, total))) == first
    assert seen == [("start", 90, 90), ("done", 90, 90)]  # the resume point: nothing left (30 examples x 3 methods)


def test_kill_9_loses_at_most_the_unit_in_flight_and_a_rerun_completes(tmp_path):
    db = tmp_path / "killed.sqlite"
    code = ("import sys; sys.path.insert(0, %r); from lumos.bench import BenchSpec, run; "
            "run(BenchSpec(model='bench_loader:slow_word_model', n=30, methods=('occlusion', 'random'), "
            "metrics=('comprehensiveness',), unit_size=5, db=%r))" % (str(TESTS), str(db)))
    proc = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(TESTS)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])})  # this checkout's code
    deadline = time.time() + 120
    while time.time() < deadline:
        if db.exists():
            with sqlite3.connect(db, timeout=30) as con:
                try:
                    if con.execute("SELECT COUNT(*) FROM units").fetchone()[0] >= 3:
                        break
                except sqlite3.OperationalError:
                    pass
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        finished = con.execute("SELECT COUNT(*) FROM units").fetchone()[0]
        # every finished unit has all of its rows; nothing half-written
        assert con.execute("SELECT COUNT(*) FROM attributions").fetchone()[0] == 5 * finished
    assert 3 <= finished < 12
    s = BenchSpec(model="bench_loader:slow_word_model", n=30, methods=("occlusion", "random"),
                  metrics=("comprehensiveness",), unit_size=5, db=str(db))
    done = []
    run_id = run(s, progress=lambda label, d, t: done.append(d))
    assert done[0] == 5 * finished  # resumed where it stopped (examples x methods)
    store = Store(db)
    assert len(store.frame("units", run_id)) == 12 and len(store.frame("attributions", run_id)) == 60
    assert store.frame("scores", run_id).value.notna().all()


def test_a_spec_from_toml_with_overrides(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text('model = "bench_loader:word_model"\nn = 7\nmethods = ["occlusion"]\n'
                    '[params.occlusion]\n[metric_params.comprehensiveness]\nvalue = 0.5\n')
    s = BenchSpec.from_toml(path, seed=3, db=str(tmp_path / "x.sqlite"))
    assert s.n == 7 and s.methods == ("occlusion",) and s.seed == 3
    assert s.metric_params == {"comprehensiveness": {"value": 0.5}}
    assert s.run_id() == BenchSpec.from_toml(path, seed=3, db="elsewhere.sqlite").run_id()
    assert s.run_id() != BenchSpec.from_toml(path, seed=4).run_id()
    path.write_text('model = "m"\nbogus = 1\n')
    with pytest.raises(Exception, match="unknown field"):
        BenchSpec.from_toml(path)

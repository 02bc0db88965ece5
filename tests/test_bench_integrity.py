"""The bench refuses what would store garbage: a whole spec is checked before a run exists, a run made with
another model or other examples is not resumed, failed units make the run (and the command) fail, results
databases are checked on open and never created by a reader, and run ids never leave the report's folder."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import bench_loader
from lumos import InputError
from lumos.bench import BenchSpec, Store, run
from lumos.bench.runner import RunIncomplete
from lumos.cli import app
from lumos.report import render

TESTS = Path(__file__).parent
sys.path.insert(0, str(TESTS))


def spec(db: Path, model: str = "bench_loader:word_model", **kw) -> BenchSpec:
    settings = {"n": 10, "methods": ("occlusion", "random"), "metrics": ("comprehensiveness",), "unit_size": 5,
                **kw}
    return BenchSpec(model=model, db=str(db), **settings)


# ----- the whole spec, before anything runs ---------------------------------------------------------------------
@pytest.mark.parametrize("kw,problem", [
    ({"metric_params": {"comprehensiveness": {"value": 3}}}, r"comprehensiveness: value must be a fraction"),
    ({"metrics": ("deletion_auc",)}, r"metric deletion_auc does not apply to bench_loader:word_model"),
    ({"methods": ("saliency",)}, r"method saliency does not apply"),
    ({"methods": ("lmie",)}, r"unknown explainer 'lmie'.*Did you mean 'lime'"),
    ({"params": {"lime": {"n_samples": 0}}, "methods": ("lime",)}, r"lime: n_samples must be an int >= 2"),
    ({"params": {"lmie": {"n_samples": 64}}}, r"\[params\] names 'lmie', which is no explainer\. Did you mean 'lime'"),
    ({"metrics": ("agreement",)}, r"metric agreement needs a reference"),
])
def test_a_bad_spec_is_refused_whole_before_a_run_or_a_file_exists(tmp_path, kw, problem):
    db = tmp_path / "sub" / "r.sqlite"
    with pytest.raises(InputError, match=problem):
        run(spec(db, **kw))
    assert not db.parent.exists()  # nothing was created


def test_several_problems_are_reported_together(tmp_path):
    with pytest.raises(InputError, match=r"cannot run \(2 problems\): .*value.*deletion_auc"):
        run(spec(tmp_path / "r.sqlite", metrics=("comprehensiveness", "deletion_auc"),
                 metric_params={"comprehensiveness": {"value": -1}}))


@pytest.mark.parametrize("body,problem", [
    ("", r"is empty; it needs at least model"),
    ('model = "bench_loader:word_model"\nn = "abc"', r"n must be an int >= 1; got 'abc'"),
    ('model = "bench_loader:word_model"\nmethods = 5', r"methods must be a non-empty list of names"),
    ('model = "bench_loader:word_model"\nmethods = []', r"methods must be .*: empty"),
    ('model = "bench_loader:word_model"\n[metric_params]\nmprt = 3', r"metric_params must be a table"),
    ('model = "bench_loader:word_model"\nn = [1', r"cannot read the bench spec"),
    ('split = "test"', r"has no model"),
    ('model = "bench_loader:NOT_A_FUNCTION"', r"is a dict, not a function; nothing was called"),
    ('model = "bench_loader"', r"is not a zoo name or 'package.module:function'|no zoo model named"),
])
def test_spec_files_with_type_errors_exit_non_zero_with_the_field(tmp_path, body, problem, monkeypatch):
    monkeypatch.syspath_prepend(str(TESTS))
    path = tmp_path / "spec.toml"
    path.write_text(body)
    result = CliRunner().invoke(app, ["bench", "--spec", str(path), "--db", str(tmp_path / "r.sqlite")])
    assert result.exit_code == 1, result.output
    import re

    assert re.search(problem, result.output.replace("\n", " ")), result.output


def test_empty_methods_flag_exits_non_zero(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(TESTS))
    result = CliRunner().invoke(app, ["bench", "--model", "bench_loader:word_model", "--methods", "",
                                      "--db", str(tmp_path / "r.sqlite"), "--no-report"])
    assert result.exit_code == 1 and "methods must be a non-empty list" in result.output


# ----- failed units ------------------------------------------------------------------------------------------------
def test_a_failing_unit_fails_the_run_and_the_command_but_keeps_the_others(tmp_path, monkeypatch):
    s = spec(tmp_path / "r.sqlite", model="bench_loader:failing_model")
    # occlusion deletes the one word of "great" (example 5): the model answers NaN; comprehensiveness of the
    # random method removes it too
    with pytest.raises(RunIncomplete, match=r"2 of 4 units of run .* failed: occlusion on examples 5..9: "
                                            r"ModelError: the model returned NaN or inf.*; random on examples 5..9: "
                                            r"comprehensiveness could not score it"):
        run(s)
    with Store(s.db) as store:
        done = store.done_units(s.run_id())
        scores = store.frame("scores", s.run_id())
    assert done == {("occlusion", 0), ("random", 0), ("random", 1)}  # the failed explain is retried on resume
    assert scores.value.isna().sum() == 5  # random's unit kept its attributions; its scores there are empty
    monkeypatch.syspath_prepend(str(TESTS))
    result = CliRunner().invoke(app, ["bench", "--model", "bench_loader:failing_model", "--n", "10",
                                      "--methods", "occlusion,random", "--metrics", "comprehensiveness",
                                      "--unit-size", "5", "--db", str(tmp_path / "cli.sqlite"), "--no-report"])
    assert result.exit_code == 1 and "2 of 4 units" in result.output


# ----- run fingerprints ----------------------------------------------------------------------------------------------
def test_resuming_with_other_weights_or_other_examples_is_refused_with_what_differs(tmp_path):
    s = spec(tmp_path / "r.sqlite", model="bench_loader:changing_model")
    try:
        first = run(s)
        assert run(s) == first  # the same model: resumed, nothing to do
        bench_loader.VARIANT["weights"] = 1  # retrained under the same name: same run id, another model
        with pytest.raises(InputError, match=r"was made with another model or other data: weights [0-9a-f]{12}\.\.\., "
                                             r"they were [0-9a-f]{12}\.\.\.; the model's predictions differ on \d+ "
                                             r"of 10 examples"):
            run(s)
        bench_loader.VARIANT.update(weights=0, texts=1)
        with pytest.raises(InputError, match=r"the examples differ"):
            run(s)
    finally:
        bench_loader.VARIANT.update(weights=0, texts=0)
    with Store(s.db) as store:
        made = store.fingerprint(first)
        assert made["model_class"] == "SklearnModel" and made["n_examples"] == 10
        assert len(store.frame("units", first)) == 4  # nothing of the other model was written


def test_a_tfidf_run_resumes_in_another_process(tmp_path):
    """scikit-learn's vectorizers cache the id() of their stop-word list on first use, a memory address that
    differs in every process: the weights hash must leave it out, or no tf-idf run could ever be resumed."""
    import subprocess

    from lumos.models import SklearnModel

    estimator, splits = bench_loader.changing_model()
    model = SklearnModel(estimator)
    before = model.weights_hash()
    model.predict_proba(list(splits["test"]["text"]))
    assert estimator.steps[0][1]._stop_words_id is not None  # what scikit-learn caches as it transforms
    assert model.weights_hash() == before
    estimator.steps[0][1]._stop_words_id += 8  # as in another process
    assert model.weights_hash() == before
    s = spec(tmp_path / "r.sqlite", model="bench_loader:changing_model")
    first = run(s)
    code = ("import sys; sys.path.insert(0, sys.argv[2]); from lumos.bench import BenchSpec, run; "
            "print(run(BenchSpec(model='bench_loader:changing_model', db=sys.argv[1], n=10, "
            "methods=('occlusion', 'random'), metrics=('comprehensiveness',), unit_size=5)))")
    done = subprocess.run([sys.executable, "-c", code, s.db, str(TESTS)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == first


def test_a_run_made_before_fingerprints_is_resumed_with_a_warning(tmp_path):
    s = spec(tmp_path / "r.sqlite")
    first = run(s)
    with sqlite3.connect(s.db) as db:
        db.execute("DELETE FROM fingerprints")
    with pytest.warns(UserWarning, match="made before lumos recorded"):
        assert run(s) == first
    with Store(s.db) as store:
        assert store.fingerprint(first) is not None


# ----- the database file ---------------------------------------------------------------------------------------------
def test_readers_never_create_files_or_folders(tmp_path):
    missing = tmp_path / "missing" / "dir" / "x.sqlite"
    with pytest.raises(InputError, match="no results database at"):
        render(missing)
    result = CliRunner().invoke(app, ["report", "--db", str(missing)])
    assert result.exit_code == 1 and "no results database" in result.output
    assert not (tmp_path / "missing").exists()
    s = spec(tmp_path / "r.sqlite")
    run(s)
    before = sorted(p.name for p in tmp_path.iterdir())
    with Store(s.db) as store:
        store.frame("scores", s.run_id())
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no -wal/-shm left behind


def test_files_that_are_not_lumos_stores_are_refused_clearly(tmp_path):
    text = tmp_path / "notes.sqlite"
    text.write_text("these are my notes, not a database\n" * 20)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE people (name TEXT)")
    for path, problem in ((text, "is not an SQLite database"), (other, "not a lumos results database"),
                          (tmp_path, "is a folder")):
        with pytest.raises(InputError, match=problem):
            Store(path)
        with pytest.raises(InputError, match=problem):
            run(spec(path))
        result = CliRunner().invoke(app, ["report", "--db", str(path)])
        assert result.exit_code == 1 and problem in result.output.replace("\n", " ")
    assert text.read_text().startswith("these are my notes")  # untouched


def test_a_damaged_page_is_caught_on_open(tmp_path):
    s = spec(tmp_path / "r.sqlite", n=30, methods=("occlusion", "random", "kernel_shap"),
             params={"kernel_shap": {"n_samples": 64}})
    run(s)
    raw = bytearray(Path(s.db).read_bytes())
    page = 4096
    assert len(raw) > 6 * page
    for k in (2, 3):
        raw[k * page: k * page + 12] = b"\xff" * 12  # the headers of two b-tree pages
    Path(s.db).write_bytes(bytes(raw))
    with pytest.raises(InputError, match=r"not a usable lumos results database .*damaged"):
        Store(s.db)
    with pytest.raises(InputError, match=r"damaged"):
        run(s)  # a resume does not carry on over a damaged file


# ----- the report: escaped data, safe file names ---------------------------------------------------------------
HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def _tags(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    from html.parser import HTMLParser

    found = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collect().feed(html)
    return found


def test_a_crafted_database_renders_as_text_and_runs_nothing(tmp_path):
    db = tmp_path / "r.sqlite"
    s = spec(db)
    run_id = run(s)
    with Store(db) as store, sqlite3.connect(db) as raw:
        raw.execute("UPDATE attributions SET method=?, features=? WHERE example_id=0 AND method='occlusion'",
                    (HOSTILE, __import__("json").dumps([HOSTILE, "b", "c"])))
        raw.execute("UPDATE examples SET label=? WHERE example_id=1", (HOSTILE,))
        raw.commit()
        payloads = {
            "tables": {"text": [HOSTILE], "tables": [{"caption": HOSTILE, "columns": [HOSTILE], "rows": [[HOSTILE]]}]},
            "robustness": {"text": [HOSTILE], "modality": "text", "attack_curves": {HOSTILE: [[1, 0.5], [2, 0.7]]},
                           "examples": [{"source": HOSTILE, "original": [HOSTILE, "x"], "perturbed": [HOSTILE, "y"],
                                         "attributions": [[0.1, 0.2], [0.3, 0.4]], "prediction_original": HOSTILE,
                                         "prediction_perturbed": HOSTILE, "method": HOSTILE}],
                           "slices": {"columns": [HOSTILE], "rows": [[HOSTILE]], "overall": HOSTILE}},
            "counterfactuals": {"settings": {HOSTILE: HOSTILE}, "summary": {"queries": 1, "found": 1, "metrics": {}},
                                "queries": [{"example_id": 0, "desired": HOSTILE, "method": HOSTILE, "reason": HOSTILE,
                                             "features": [HOSTILE], "cells": [[[HOSTILE, True], [HOSTILE, False]]],
                                             "p_original": 0.2, "p_counterfactuals": [0.7]}]},
            "nle": {"text": [HOSTILE], "tables": [{"caption": "c", "columns": ["x"], "rows": [[HOSTILE]]}]},
            "my_own_kind": {"text": HOSTILE, "tables": HOSTILE},
            "robustness_broken": {"examples": [{"original": 3}]},
        }
        for kind, payload in payloads.items():
            store.db.execute("INSERT OR REPLACE INTO sections VALUES (?, ?, ?, ?, 1)",
                             (run_id, kind if kind != "robustness_broken" else "robustness", HOSTILE,
                              __import__("json").dumps(payload)))
    html = Path(render(db, run_id)).read_text()
    tags = _tags(html)
    assert not [t for t, _ in tags if t == "script"]
    assert not [(t, a) for t, attrs in tags for a, _ in attrs if a.lower().startswith("on")]
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 8  # shown, as text, where it was stored


def test_run_ids_never_lead_the_report_outside_the_databases_folder(tmp_path):
    from lumos.bench import add_section

    folder = tmp_path / "runs"
    db = folder / "r.sqlite"
    for run_id in ("x/../../escaped", "../../y", "/etc/z", ".hidden", "a\\b"):
        add_section(db, run_id, "tables", {"text": ["hello"], "tables": []})
        path = Path(render(db, run_id))
        assert path.parent == folder and path.name.startswith("report-") and ".." not in path.name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]

"""Examples read lazily: every source hands out the same rows as the DataFrame it holds, a bench over a file
stores what the same rows in memory give, and a run reads its examples a block at a time."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lumos.bench import BenchSpec, Store, run
from lumos.bench import examples as lazy
from lumos.bench.data import from_frame
from lumos.bench.runner import example_rows
from lumos.cli import app
from lumos.errors import InputError
from lumos.models import wrap

TESTS = Path(__file__).parent
sys.path.insert(0, str(TESTS))
import bench_loader  # noqa: E402


def table(rows: int = 23) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"text": [f"review {i} {'good' if i % 3 else 'bad'}" for i in range(rows)],
                         "score": rng.normal(size=rows).round(6), "count": rng.integers(0, 9, rows),
                         "label": np.arange(rows) % 2})


def open_as(kind: str, frame: pd.DataFrame, tmp_path: Path, limit: int | None) -> lazy.Examples:
    if kind == "frame":
        return lazy.examples_of(frame, limit)
    if kind == "parquet":  # row groups of 6, so draws cross groups
        frame.to_parquet(tmp_path / "x.parquet", row_group_size=6)
        return lazy.examples_of(str(tmp_path / "x.parquet"), limit)
    if kind == "csv":
        frame.to_csv(tmp_path / "x.csv", index=False)
        return lazy.examples_of(tmp_path / "x.csv", limit)
    import datasets

    return lazy.examples_of(datasets.Dataset.from_pandas(frame), limit)


@pytest.mark.parametrize("kind", ["frame", "parquet", "csv", "datasets"])
def test_every_source_hands_out_the_rows_of_its_frame(kind, tmp_path, monkeypatch):
    monkeypatch.setattr(lazy, "BLOCK_ROWS", 4)  # slices of 5 cross blocks of 4
    frame = table()
    examples = open_as(kind, frame, tmp_path, limit=21)
    assert len(examples) == 21
    slices = list(examples.slices(5))
    assert [first for first, _ in slices] == [0, 5, 10, 15, 20] and len(slices[-1][1]) == 1
    for first, part in slices:
        assert list(part.index) == list(range(first, first + len(part)))
    pd.testing.assert_frame_equal(pd.concat(p for _, p in slices), frame.iloc[:21], check_dtype=False)
    expected = frame.iloc[:21].sample(7, random_state=0)  # what the in-memory runner drew for background
    pd.testing.assert_frame_equal(examples.sample(7), expected, check_dtype=False)
    pd.testing.assert_frame_equal(examples.take(np.array([13, 2, 13])), frame.iloc[[13, 2, 13]], check_dtype=False)
    with pytest.raises(InputError, match="0..20"):
        examples.take(np.array([21]))


def test_sources_that_cannot_be_read_say_what_to_give(tmp_path):
    with pytest.raises(InputError, match="no examples file"):
        lazy.examples_of(tmp_path / "missing.parquet")
    (tmp_path / "x.json").write_text("[]")
    with pytest.raises(InputError, match="neither Parquet"):
        lazy.examples_of(tmp_path / "x.json")
    with pytest.raises(InputError, match="datasets.Dataset"):
        lazy.examples_of([1, 2, 3])


def test_table_rows_are_stored_as_the_row_by_row_encoding():
    frame = pd.DataFrame({"age": [30, 41], "income": [1.5, 2.25], "city": ["a <b>", "c"], "flag": [True, False]})
    for part in (frame, frame[["age", "income"]]):  # mixed types keep theirs; numbers alone share one type
        data = from_frame(wrap(lambda x: np.full((len(x), 2), 0.5)), part.set_axis([7, 8]))
        old = [json.dumps(json.loads(part.iloc[i].to_json()), sort_keys=True) for i in range(2)]
        assert [row[1] for row in example_rows(data, 7)] == old
        assert [row[0] for row in example_rows(data, 7)] == [7, 8]


def stored(db: Path, run_id: str) -> dict[str, pd.DataFrame]:
    store = Store(db)
    try:
        return {t: store.frame(t, run_id).drop(columns="run_id").sort_values(k).reset_index(drop=True)
                for t, k in (("examples", ["example_id"]), ("attributions", ["method", "example_id"]),
                             ("scores", ["method", "metric", "example_id"]))}
    finally:
        store.close()


def assert_same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for name, x in a.items():
        y = b[name]
        assert len(x) == len(y) > 0
        for column in x:
            if column == "attributions":
                for u, v in zip(x[column], y[column]):
                    np.testing.assert_array_equal(u, v)
            else:
                assert x[column].tolist() == y[column].tolist(), (name, column)


@pytest.mark.parametrize("model, suffix", [("bench_loader:tabular_model", ".parquet"),
                                           ("bench_loader:tabular_model", ".csv"),
                                           ("bench_loader:word_model", ".parquet")])
def test_a_bench_over_a_file_stores_what_the_same_rows_in_memory_give(model, suffix, tmp_path, monkeypatch):
    monkeypatch.setattr(lazy, "BLOCK_ROWS", 7)
    reads = spy_on_reads(monkeypatch)
    _, splits = getattr(bench_loader, model.split(":")[1])()
    path = tmp_path / f"rows{suffix}"
    if suffix == ".csv":
        splits["test"].to_csv(path, index=False)
    else:
        splits["test"].to_parquet(path)
    settings = dict(n=17, methods=("occlusion", "kernel_shap"), metrics=("comprehensiveness",), unit_size=4,
                    params={"kernel_shap": {"n_samples": 32}})
    in_memory = run(BenchSpec(model=model, first=True, db=str(tmp_path / "a.sqlite"), **settings))  # a file: first n
    from_file = run(BenchSpec(model=model, data=str(path), db=str(tmp_path / "b.sqlite"), **settings))
    assert in_memory != from_file  # the file is part of the run's identity
    assert reads and max(reads) <= 7  # the file was read, a block at a time
    assert_same(stored(tmp_path / "a.sqlite", in_memory), stored(tmp_path / "b.sqlite", from_file))


def spy_on_reads(monkeypatch) -> list[int]:
    """Rows of every block the file sources read (slices, background draws and all)."""
    reads: list[int] = []
    for cls in (lazy.ParquetExamples, lazy.CsvExamples):
        def blocks(self, _read=cls._blocks):
            for block in _read(self):
                reads.append(len(block))
                yield block

        monkeypatch.setattr(cls, "_blocks", blocks)
    return reads


def test_lumos_bench_over_a_csv_file_reads_it_a_block_at_a_time(tmp_path, monkeypatch):
    monkeypatch.setattr(lazy, "BLOCK_ROWS", 100)
    reads = spy_on_reads(monkeypatch)
    texts = [" ".join(np.random.default_rng(i).choice(list(bench_loader.WORDS) + ["film", "plot"], 6))
             for i in range(3000)]
    pd.DataFrame({"text": texts, "label": [i % 2 for i in range(3000)]}).to_csv(tmp_path / "t.csv", index=False)
    db = tmp_path / "r.sqlite"
    result = CliRunner().invoke(app, ["bench", "--model", "bench_loader:word_model", "--data", str(tmp_path / "t.csv"),
                                      "--n", "2990", "--methods", "random", "--metrics", "comprehensiveness",
                                      "--unit-size", "64", "--db", str(db), "--no-report"])
    assert result.exit_code == 0, result.output
    assert max(reads) <= 100 and sum(reads) >= 2990
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*), MAX(example_id) FROM examples").fetchone() == (2990, 2989)
        assert con.execute("SELECT COUNT(*), SUM(n_examples) FROM units").fetchone() == (47, 2990)
        assert con.execute("SELECT input FROM examples WHERE example_id=2989").fetchone() == (texts[2989],)


def test_backends_are_named_and_ray_is_asked_for_when_missing(tmp_path, monkeypatch):
    s = BenchSpec(model="bench_loader:word_model", n=5, methods=("random",), metrics=("comprehensiveness",), db=str(tmp_path / "r.db"))
    with pytest.raises(InputError, match="unknown backend 'spark'"):
        run(s, backend="spark")
    with pytest.raises(InputError, match="add --backend ray"):
        run(s, address="127.0.0.1:6379")
    monkeypatch.setitem(sys.modules, "ray", None)  # as if it were not installed
    with pytest.raises(InputError, match=r"lumos\[ray\]"):
        run(s, backend="ray")
    assert run(s) == s.run_id()  # the default backend never needs Ray


def test_the_summary_reads_the_stored_maps_a_chunk_of_examples_at_a_time(tmp_path, monkeypatch):
    """lumos bench's summary and the report's run view (also lumos serve's run page) never read a run's
    attributions whole (a million rows of maps would not fit), and what they compute from chunks is what the
    whole table gives."""
    from lumos.report.render import run_view
    from lumos.report.tables import agreement, attribution_summary, degenerate_explanations

    reads, whole = [], Store.frame
    monkeypatch.setattr(Store, "frame", lambda self, table, run_id, examples=None: (
        reads.append((table, examples)), whole(self, table, run_id, examples))[1])
    db = tmp_path / "r.sqlite"
    result = CliRunner().invoke(app, ["bench", "--model", "bench_loader:word_model", "--n", "30", "--first",
                                      "--methods", "occlusion,random", "--metrics", "comprehensiveness",
                                      "--unit-size", "7", "--db", str(db), "--no-report"])
    assert result.exit_code == 0, result.output
    assert ("attributions", None) not in reads and ("attributions", (0, 10_000)) in reads
    with Store(db) as store:
        run_id = store.latest_run()
        reads.clear()
        view = run_view(store, run_id, max_examples=5)
        assert ("attributions", None) not in reads and ("examples", None) not in reads
        assert view["n_examples"] == 30 and [e["example_id"] for e in view["examples"]] == [0, 1, 2, 3, 4]
        degenerate, per_pair, flagged = attribution_summary(store, run_id, chunk=4)
        maps = store.frame("attributions", run_id)
        assert len(list(store.chunks("attributions", run_id, 4))) == 8  # examples 0..29, 4 at a time
    expected = degenerate_explanations(maps)
    assert len(expected) and set(map(tuple, degenerate.to_numpy())) == set(map(tuple, expected.to_numpy()))
    assert flagged == {m: (int((expected.method == m).sum()), 30) for m in ("occlusion", "random")}
    matrix, pairs = agreement(maps)
    for pair, values in pairs.items():
        np.testing.assert_array_equal(np.sort(per_pair[pair]), np.sort(values))
    np.testing.assert_allclose(view["agreement"].to_numpy(), matrix.to_numpy())
    assert view["degenerate"] == {m: c for m, c in flagged.items() if c[0]}


def test_the_fingerprint_hashes_every_example_a_slice_at_a_time_and_predicts_on_the_first_1000(monkeypatch):
    """A run's fingerprint covers every example (a change in row 2,400 of 2,500 is caught) while holding one
    slice of 1,000 at a time, and the model predicts on the first 1,000 examples only."""
    from lumos.bench import runner
    from lumos.bench.data import Source
    from lumos.bench.fingerprint import differences

    sizes, encode = [], runner.example_rows
    monkeypatch.setattr(runner, "example_rows", lambda data, first: (sizes.append(len(data.inputs)),
                                                                     encode(data, first))[1])
    texts = [f"a good film number {i}" for i in range(2500)]

    def made_with(texts: list[str]) -> dict:
        source = Source(wrap(bench_loader._probs), lazy.examples_of(pd.DataFrame({"text": texts})))
        source.model.reset_counts()
        out = runner.made_with_fingerprint(source)
        assert source.model.counts.rows == runner.FINGERPRINT_ROWS
        return out

    before = made_with(texts)
    assert sizes == [1000, 1000, 500] and len(before["predictions"]) == 1000
    after = made_with(texts[:2400] + ["an awful film"] + texts[2401:])
    assert after["predictions"] == before["predictions"] and after["n_examples"] == 2500
    assert [d for d in differences(before, after) if "examples differ" in d]

"""The HTML report: self-contained, every section present, data escaped; the same views in notebooks."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

import lumos
from lumos.bench import BenchSpec, run
from lumos.report import render

sys.path.insert(0, str(Path(__file__).parent))

SECTIONS = ("overview", "summary", "metrics", "agreement", "examples")


def make_report(tmp_path: Path, model: str, methods=("occlusion", "kernel_shap", "random"), metrics=("all",)) -> str:
    spec = BenchSpec(model=model, n=12, methods=methods, metrics=metrics, unit_size=6,
                     params={"kernel_shap": {"n_samples": 64}}, db=str(tmp_path / "r.sqlite"))
    path = render(spec.db, run(spec), out=tmp_path / "report.html")
    return path.read_text()


@pytest.mark.parametrize("loader", ["bench_loader:word_model", "bench_loader:tabular_model",
                                    "bench_loader:image_model"])
def test_report_has_every_section_and_is_self_contained(tmp_path, loader):
    html = make_report(tmp_path, loader)
    for section in SECTIONS:
        assert f'id="{section}"' in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing fetched from the network
    assert "↑" in html and "↓" in html  # directions shown
    assert "random" in html and "occlusion" in html


def test_text_report_content(tmp_path):
    html = make_report(tmp_path, "bench_loader:word_model")
    assert 'class="rationale"' in html  # the true rationale is underlined
    # the plain-language summary, computed from the numbers (each sentence has a known-answer test in
    # tests/test_report_truth.py)
    assert "Every method beat random attributions on" in html
    assert "taucorr_loo favours occlusion by construction" in html
    assert re.search(r"<td>occlusion</td><td>\d+</td>", html)  # rows per example in the cost table


def test_data_strings_are_escaped(tmp_path):
    html = make_report(tmp_path, "bench_loader:hostile_text_model")
    assert "<script>alert(1)</script>" not in html and "onerror=alert(2)>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html  # the page itself needs no script at all


def test_tabular_report_escapes_column_names(tmp_path):
    html = make_report(tmp_path, "bench_loader:tabular_model")
    assert "debt &lt;ratio&gt;" in html and "<ratio>" not in html
    assert "<svg" in html  # signed bar charts


def test_image_report_inlines_overlays(tmp_path):
    html = make_report(tmp_path, "bench_loader:image_model", methods=("occlusion", "random"),
                       metrics=("deletion_auc", "insertion_auc"))
    examples = html[html.index('id="examples"'):]
    assert examples.count("data:image/png;base64,") == 6 * 3  # 6 images: the input and one overlay per method


def test_notebook_views(tfidf_pipeline):
    e = lumos.explain(tfidf_pipeline, ["a <great> film"], method="occlusion")
    html = e._repr_html_()
    assert "&lt;great&gt;" in html and "occlusion" in html
    table = lumos.explain(lambda x: np.stack([1 - x[:, 0] / 10, x[:, 0] / 10], 1), np.ones((1, 2)),
                          method="occlusion")
    assert "<svg" in table[0]._repr_html_()


def test_several_runs_in_one_report(tmp_path):
    ids = [run(BenchSpec(model=m, n=6, methods=("occlusion", "random"), metrics=("all",), unit_size=6,
                         db=str(tmp_path / "r.sqlite"))) for m in ("bench_loader:word_model",
                                                                    "bench_loader:tabular_model")]
    html = render(tmp_path / "r.sqlite", ids, out=tmp_path / "both.html").read_text()
    assert 'id="runs"' in html and 'id="overview"' in html and 'id="overview-2"' in html
    assert "bench_loader:word_model" in html and "bench_loader:tabular_model" in html
    assert render(tmp_path / "r.sqlite").name == f"report-{ids[-1]}.html"  # default: the latest run


def test_extra_sections_render_after_a_bench_run_and_alone(tmp_path):
    from lumos.bench import Store

    db = tmp_path / "r.sqlite"
    bench_id = run(BenchSpec(model="bench_loader:word_model", n=6, methods=("occlusion", "random"),
                             metrics=("comprehensiveness",), unit_size=6, db=str(db)))
    store = Store(db)
    table = {"caption": "per test", "columns": ["test", "failure rate"], "rows": [["typos <b>", 0.125]]}
    store.add_section(bench_id, "stress", "Stress tests", {"text": ["two <i>tests</i>"], "tables": [table]})
    store.ensure_run("alone", {"model": "m", "split": "test", "seed": 0}, "tabular", None, "0")
    store.add_section("alone", "stress", "Only a section", {"tables": [table]})
    with pytest.raises(lumos.InputError, match="no run 'missing'"):
        store.add_section("missing", "stress", "x", {})
    store.close()
    html = render(db, bench_id, out=tmp_path / "a.html").read_text()
    assert html.index('id="examples"') < html.index('id="stress"')  # after the run's own sections
    assert "<td>typos &lt;b&gt;</td><td>0.125</td>" in html and "two &lt;i&gt;tests&lt;/i&gt;" in html
    alone = render(db, "alone", out=tmp_path / "b.html").read_text()
    assert "Only a section" in alone and 'id="metrics"' not in alone and 'id="examples"' not in alone


def test_bench_spec_counterfactual_section(tmp_path):
    spec = BenchSpec(model="bench_loader:tabular_model", n=6, methods=("occlusion",), metrics=("sparseness",),
                     counterfactuals={"rows": 3, "n": 2, "method": "random"}, db=str(tmp_path / "r.sqlite"))
    assert BenchSpec(model="m").run_id() == BenchSpec(model="m", counterfactuals={}).run_id()  # old ids kept
    assert spec.run_id() != BenchSpec(**{**spec.to_dict(), "counterfactuals": {}}).run_id()
    html = render(spec.db, run(spec), out=tmp_path / "r.html").read_text()
    section = html[html.index('id="counterfactuals"'):]
    assert section.count('<div class="example">') == 3 and "Counterfactuals were found for 3 of 3" in section
    # every counterfactual flips the decision: p(desired) >= 0.5 in each counterfactual column, < 0.5 before
    rows = re.findall(r"<tr><td>p\((\d)\)</td><td>([\d.]+)</td>(.*?)</tr>", section)
    assert len(rows) == 3
    for _, before, after in rows:
        assert float(before) < 0.5 and all(float(p) >= 0.5 for p in re.findall(r"<td>([\d.]+)</td>", after))
    assert 'class="changed"' in section and "debt &lt;ratio&gt;" in section
    with pytest.raises(lumos.InputError, match="need a table model"):
        run(BenchSpec(model="bench_loader:word_model", n=2, counterfactuals={"rows": 1}, db=spec.db))

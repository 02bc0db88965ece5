"""The robustness report section: stored, drawn after the run's tables, data escaped, SVG inline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import lumos
from lumos.bench import add_section
from lumos.report import render
from lumos.robustness import RobustnessPlan, stress_test
from lumos import plot


def test_curves_plot_the_points_and_escape_names_in_svg():
    fig = plot.curves({"a <b>": [(0, 0.0), (10, 1.0)]}, "budget", "success")
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_xydata(), [[0, 0.0], [10, 1.0]])
    svg = plot.svg(fig)
    assert svg.startswith("<svg") and "a &lt;b&gt;" in svg and "<script" not in svg and "<?xml" not in svg


def test_a_text_run_becomes_a_report_section_with_escaped_examples(tmp_path):
    def probs(texts):
        p = np.array([0.9 if "great" in t.split() else 0.2 for t in texts])
        return np.stack([1 - p, p], axis=1)

    model = lumos.wrap(probs, labels=["negative", "positive"])
    texts = ["a great film by John <script>alert(1)</script>", "a great cast", "it is a dull plot",
             "John is great", "great"] * 2
    test = pd.DataFrame({"text": texts, "label": [1, 1, 0, 1, 1] * 2})
    said = []
    report = stress_test(model, test, RobustnessPlan(n_suite=10, n_attack=5, n_slices=10, budget=30,
                                                     methods=("deepwordbug",), n_examples=4), said.append)
    assert said[0].startswith("suites: 7 tests on 10 sentences")
    attacked = report.attacks[0]
    assert (attacked.method, attacked.budget, attacked.attacked) == ("deepwordbug", 30, 5)
    assert report.to_frame().query("part == 'attack'").value.tolist() == [attacked.success_rate]
    db = tmp_path / "r.sqlite"
    add_section(db, "rb", "robustness", report, model_name="m", modality="text", labels=["negative", "positive"])
    stored = lumos.bench.Store(db).sections("rb")[0]["payload"]
    assert "<span" not in str(stored) and "<svg" not in str(stored)  # data, no markup, in the store
    html = render(db, "rb", out=tmp_path / "r.html").read_text()
    header, section = html[:html.index('id="robustness"')], html[html.index('id="robustness"'):]
    assert "0 text examples" not in header and "text model m, split" in header  # a section-only run says what it covers
    assert f"What was run ({report.model_rows} model rows in " in section
    assert "suites: 7 tests on 10 sentences" in section
    assert "<h3>Behavioural tests (failure rate per test)</h3>" in section and '<figure class="curve"><svg' in section
    assert '<td style="text-align:left">name swap</td><td style="text-align:left">invariance</td>' in section
    assert "&lt;script&gt;" in section and "<script>alert" not in section
    assert "Examples side by side" in section and '<p class="words">' in section


@pytest.mark.slow
def test_lumos_robustness_on_minilm_attacks_within_budget(tmp_path):
    """The real victim, three sentences: every attack stays in its budget and reports what the model says."""
    model, splits = lumos.zoo.load("sentiment/minilm", progress=False)
    texts = splits["test"].text[:3].tolist()
    labels = splits["test"].label[:3].tolist()
    result = lumos.robustness.attack(model, texts, "textfooler", labels=labels, budget=60)
    assert all(e.queries <= 60 for e in result.examples)
    again = model.predict_proba([e.perturbed for e in result.examples])
    for e, p in zip(result.examples, again):
        assert p == pytest.approx(e.probs_perturbed, abs=1e-4)
        assert (p.argmax() != e.label) == (e.status == "succeeded")
    assert result.success_rate > 0  # MiniLM is not robust to embedding-neighbour swaps


def test_the_robustness_command_has_help_and_one_line_errors():
    from typer.testing import CliRunner

    from lumos.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["robustness", "--help"])
    assert result.exit_code == 0 and "--budget" in result.output
    result = runner.invoke(app, ["robustness", "--model", "sentiment/minilmm"])
    assert result.exit_code == 1 and "error: no model 'sentiment/minilmm'" in result.output
    assert "Did you mean 'sentiment/minilm'" in result.output


def test_an_image_attack_becomes_tables_curves_and_explained_pairs(tmp_path):
    from conftest import make_cnn

    from lumos.robustness import RobustnessReport, image_attack
    from lumos.robustness.run import image_pairs

    model = lumos.wrap(make_cnn(seed=1))
    x = np.random.default_rng(2).random((8, 3, 16, 16)).astype(np.float32)
    y = model.predict_proba(x).argmax(1)
    result = image_attack(model, x, y, "pgd", epsilons=[0.0, 0.3], steps=3, explain_method=None)
    assert result.to_frame().accuracy.tolist()[0] == 1.0
    pairs = image_pairs(model, x, result, ["a", "b", "c"], n=2)
    flipped = [i for i in range(8) if result.per_epsilon[1].predictions[i] != y[i]]
    assert len(pairs) == min(2, len(flipped)) > 0
    assert all(p.predictions[0] != p.predictions[1] for p in pairs)
    db = tmp_path / "r.sqlite"
    add_section(db, "img", "robustness", RobustnessReport("image", image_attacks=[result], pairs=pairs),
                model_name="m", modality="image", labels=["a", "b", "c"])
    section = render(db, "img", out=tmp_path / "r.html").read_text().split('id="robustness"')[1]
    assert "PGD linf (clean accuracy 1.000)" in section and section.count("<img") == 4 * len(pairs)
    assert '<figure class="curve"><svg' in section  # the accuracy curves, drawn by lumos.plot

"""One progress mechanism: silent on short calls, a bar or plain lines on long ones, and the same results
whether the work was split into pieces for it or not."""

from __future__ import annotations

import numpy as np
import pandas as pd

import lumos
from lumos import progress as P
from lumos.progress import Bar, duration, run_chunked


def test_durations_read_as_people_say_them():
    assert [duration(s) for s in (0.43, 8, 75, 250, 4200)] == ["0.4 s", "8.0 s", "1 min 15 s", "4 min 10 s",
                                                               "1 h 10 min"]


def test_plain_lines_when_stderr_is_not_a_terminal(capsys, monkeypatch):
    monkeypatch.setattr(P, "LINE_SECONDS", 0.0)  # a line per piece
    pieces = []
    run_chunked(10, lambda lo, hi: pieces.append((lo, hi)), True, "explain lime", pieces=5)
    assert pieces == [(0, 2), (2, 4), (4, 6), (6, 8), (8, 10)]
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("explain lime: 2/10 examples (20%), ") and "left" in lines[0]
    assert lines[-1].startswith("explain lime: 10/10 examples (100%), ") and lines[-1].endswith("done")
    assert "\r" not in "".join(lines)  # no carriage returns in a log


def test_short_work_is_silent_by_default_and_keeps_one_call(capsys):
    pieces = []
    run_chunked(100, lambda lo, hi: pieces.append((lo, hi)), None, "explain occlusion")
    assert pieces == [(0, 5), (5, 100)]  # a probe piece, then the rest at once
    assert capsys.readouterr().err == ""
    run_chunked(100, lambda lo, hi: pieces.append((lo, hi)), False, "explain occlusion")
    assert pieces[-1] == (0, 100)
    run_chunked(20, lambda lo, hi: pieces.append((lo, hi)), None, "explain occlusion")
    assert pieces[-1] == (0, 20)  # 20 examples or fewer: one call, no probe


def test_long_work_gets_a_bar_by_default(capsys, monkeypatch):
    monkeypatch.setattr(P, "AUTO_SECONDS", 0.0)
    monkeypatch.setattr(P, "LINE_SECONDS", 0.0)
    run_chunked(40, lambda lo, hi: None, None, "evaluate lime")
    err = capsys.readouterr().err
    assert "evaluate lime: 2/40 examples" in err and "evaluate lime: 40/40 examples (100%)" in err


def test_a_callable_gets_done_and_total():
    seen = []
    with Bar(4, "x", lambda d, t: seen.append((d, t))) as bar:
        bar.update(1)
        bar.set(3)
    assert seen == [(0, 4), (1, 4), (3, 4), (3, 4)]


def test_a_notebook_gets_one_html_line_updated_in_place(monkeypatch):
    shown = []

    class Handle:
        def update(self, html):
            shown.append(html.data)

    class HTML:
        def __init__(self, data):
            self.data = data

    import sys
    import types

    display = types.ModuleType("IPython.display")
    display.HTML = HTML
    display.display = lambda html, display_id: (shown.append(html.data), Handle())[1]
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    monkeypatch.setattr(P, "_in_notebook", lambda: True)
    with Bar(3, "nle free", True, unit="explanations") as bar:
        bar.update(2)
    assert len(shown) >= 3 and all(h.startswith("<div") and "<progress" in h for h in shown)
    assert 'value="2" max="3"' in shown[-2] and "nle free: 2/3 explanations" in shown[-2]


def test_explain_and_evaluate_give_the_same_results_in_pieces(tfidf_pipeline):
    texts = ["a great film", "a dull and boring script", "truly wonderful acting", "far too long", "great"] * 3
    calls = []
    whole = lumos.explain(tfidf_pipeline, texts, method="kernel_shap", n_samples=32, progress=False)
    pieces = lumos.explain(tfidf_pipeline, texts, method="kernel_shap", n_samples=32,
                           progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (15, 15) and len(calls) > 3
    for a, b in zip(whole, pieces):
        np.testing.assert_array_equal(a.attributions, b.attributions)
    metrics = ["comprehensiveness", "aopc_sufficiency", "taucorr_loo"]
    one = lumos.evaluate(tfidf_pipeline, texts, whole, metrics=metrics, progress=False)
    seen = []
    many = lumos.evaluate(tfidf_pipeline, texts, whole, metrics=metrics, progress=lambda d, t: seen.append(d))
    assert seen[-1] == 15 and len(seen) > 3
    for m in metrics:
        np.testing.assert_allclose(one[m], many[m], equal_nan=True)
    assert np.array_equal(one.details["aopc_sufficiency"]["bins"], many.details["aopc_sufficiency"]["bins"])
    np.testing.assert_allclose(one.details["aopc_sufficiency"]["per_bin"], many.details["aopc_sufficiency"]["per_bin"])
    assert len(many.details["taucorr_loo"]["leave_one_out"]) == 15


def test_an_attack_gives_the_same_result_in_pieces():
    def probs(texts):
        p = np.array([0.9 if "great" in t.split() else 0.2 for t in texts])
        return np.stack([1 - p, p], axis=1)

    texts = ["a great film", "a great cast and crew", "great", "it is great fun", "so great"] * 2
    a = lumos.robustness.attack(probs, texts, "deepwordbug", budget=20, progress=False)
    ticks = []
    b = lumos.robustness.attack(probs, texts, "deepwordbug", budget=20, progress=lambda d, t: ticks.append(d))
    assert ticks[-1] == 10 and [e.as_dict() for e in a.examples] == [e.as_dict() for e in b.examples]


def test_influence_reports_training_rows_scored():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3))
    y = (x[:, 0] > 0).astype(int)
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit(x, y)
    seen = []
    result = lumos.influence.explain(model, (pd.DataFrame(x), y), (pd.DataFrame(x[:4]), y[:4]), method="grad_dot",
                                     batch_size=16, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (60, 60) and [d for d, _ in seen][1:5] == [16, 32, 48, 60]
    assert result.scores.shape == (4, 60)


def test_nle_reports_each_generation():
    from lumos.nle.generator import Completion

    class Counting:
        name, context_length = "counting", None

        def count_tokens(self, messages):
            return 1

        def generate(self, conversations, max_new_tokens=60, temperature=0.0, seed=0, done=None):
            out = []
            for _ in conversations:
                out.append(Completion("positive because great"))
                done(1)
            return out

    def probs(texts):
        return np.tile([0.2, 0.8], (len(texts), 1))

    seen = []
    model = lumos.wrap(probs, labels=["negative", "positive"])
    expl = lumos.nle.explain(model, ["a great film", "great"], generator=Counting(),
                             progress=lambda d, t: seen.append((d, t)))
    assert seen == [(0, 2), (1, 2), (2, 2), (2, 2)] and len(expl) == 2


def test_the_bench_command_prints_plain_lines_when_piped(tmp_path):
    import sys
    from pathlib import Path

    from typer.testing import CliRunner

    from lumos.cli import app

    sys.path.insert(0, str(Path(__file__).parent))
    result = CliRunner().invoke(app, ["bench", "--model", "bench_loader:word_model", "--n", "6", "--methods",
                                      "occlusion,random", "--metrics", "comprehensiveness", "--db",
                                      str(tmp_path / "r.sqlite"), "--no-report"])
    assert result.exit_code == 0, result.output
    assert "explanations to compute and score (2 methods); about" in result.output  # the probe's estimate
    assert "bench_loader:word_model · done: 12/12 explanations (100%)" in result.output

"""The command line: help on every command, one-line errors, bench -> store -> report."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lumos.cli import app

sys.path.insert(0, str(Path(__file__).parent))
runner = CliRunner()


@pytest.mark.parametrize("command", [[], ["explain"], ["bench"], ["report"], ["methods"], ["metrics"], ["zoo"]])
def test_help_on_every_command(command):
    result = runner.invoke(app, command + ["--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_methods_and_metrics_are_listed():
    assert "integrated_gradients" in runner.invoke(app, ["methods"]).output
    assert "comprehensiveness" in runner.invoke(app, ["metrics"]).output


def test_bench_then_report(tmp_path):
    db = tmp_path / "runs.sqlite"
    result = runner.invoke(app, ["bench", "--model", "bench_loader:word_model", "--n", "6",
                                 "--methods", "occlusion,random", "--metrics", "comprehensiveness,sparseness",
                                 "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "comprehensiveness" in result.output and "occlusion" in result.output  # the summary table
    reports = list(tmp_path.glob("report-*.html"))
    assert len(reports) == 1 and 'id="examples"' in reports[0].read_text()
    result = runner.invoke(app, ["report", "--db", str(db), "--out", str(tmp_path / "again.html")])
    assert result.exit_code == 0 and (tmp_path / "again.html").exists()


def test_errors_are_one_line_without_traceback(tmp_path):
    result = runner.invoke(app, ["bench", "--model", "no_such_module:load", "--db", str(tmp_path / "x.sqlite")])
    assert result.exit_code == 1
    assert "error: cannot load the model loader 'no_such_module:load'" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(app, ["report", "--db", str(tmp_path / "missing.sqlite")])
    assert result.exit_code == 1 and "no results database at" in result.output  # a reader creates nothing
    assert not (tmp_path / "missing.sqlite").exists()
    from lumos.bench import Store

    Store(tmp_path / "empty.sqlite", create=True).close()
    result = runner.invoke(app, ["report", "--db", str(tmp_path / "empty.sqlite")])
    assert result.exit_code == 1 and "holds no runs yet" in result.output
    result = runner.invoke(app, ["bench"])
    assert result.exit_code == 1 and "needs --model" in result.output


def test_explain_prints_the_words(tmp_path, monkeypatch):
    monkeypatch.setenv("LUMOS_CACHE", str(tmp_path / "cache"))
    result = runner.invoke(app, ["explain", "a gripping and beautifully shot film", "--model", "sentiment/tfidf",
                                 "--method", "occlusion"])
    assert result.exit_code == 0, result.output
    assert "gripping" in result.output and "occlusion explains it" in result.output

"""The ``lumos`` commands for explaining, benchmarking and reporting (registered on the CLI app in cli.py).

Errors print as one line (``error: ...``); ``--debug`` shows the traceback.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import Callable, Optional

import typer

DEBUG = {"on": False}


def one_line_errors(fn: Callable) -> Callable:
    """LumosError (and bad files) -> one red line and exit code 1, unless --debug."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from .errors import LumosError

        try:
            return fn(*args, **kwargs)
        except (LumosError, OSError) as e:
            if DEBUG["on"]:
                raise
            typer.secho(f"error: {e}", fg="red", err=True)
            raise typer.Exit(1) from None

    return wrapper


def register(app: typer.Typer) -> None:
    @app.callback()
    def main(debug: bool = typer.Option(False, "--debug", help="Show tracebacks instead of one-line errors.")):
        """lumos: explain, evaluate and stress-test classifiers on text, images and tables."""
        DEBUG["on"] = debug
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

    @app.command()
    @one_line_errors
    def explain(text: str = typer.Argument(..., help="The sentence to explain."),
                model: str = typer.Option("sentiment/tfidf", help="A zoo name (see `lumos zoo list`)."),
                method: str = typer.Option("occlusion", help="An explanation method (see `lumos methods`)."),
                target: Optional[str] = typer.Option(None, help="Class to explain (default: the predicted one)."),
                seed: int = typer.Option(0)) -> None:
        """Explain one sentence and print its words shaded by attribution."""
        from rich.console import Console
        from rich.text import Text

        import lumos

        from . import zoo
        from .report.colors import NEGATIVE, POSITIVE

        wrapped, _ = zoo.load(model)
        target_value = int(target) if target is not None and target.isdigit() else target
        e = lumos.explain(wrapped, [text], method=method, target=target_value, seed=seed)[0]
        scale = float(abs(e.attributions).max()) or 1.0
        line = Text()
        for word, a in zip(e.features, e.attributions):
            r, g, b = POSITIVE if a >= 0 else NEGATIVE
            level = min(abs(float(a)) / scale, 1.0)
            blend = tuple(int(255 - level * (255 - c)) for c in (r, g, b))
            line.append(word, style=f"black on rgb({blend[0]},{blend[1]},{blend[2]})")
            line.append(" ")
        console = Console()
        console.print(f"{e.method} explaining [bold]{e.label}[/bold] (p = {e.probs[e.target]:.2f}):")
        console.print(line)
        console.print("[dim]orange: for the class; purple: against it[/dim]")

    @app.command()
    @one_line_errors
    def methods() -> None:
        """List the explanation methods."""
        _table("method", __import__("lumos").methods(), ["modalities", "needs_gradients", "summary"])

    @app.command()
    @one_line_errors
    def metrics() -> None:
        """List the evaluation metrics."""
        _table("metric", __import__("lumos").metrics(), ["family", "higher_is_better", "modalities", "summary"])

    @app.command()
    @one_line_errors
    def bench(spec: Optional[str] = typer.Option(None, help="A TOML spec file; flags override its fields."),
              model: Optional[str] = typer.Option(None, help="A zoo name or package.module:function."),
              split: Optional[str] = typer.Option(None, help="Data split (default: test)."),
              n: Optional[int] = typer.Option(None, help="Number of examples (default: 50)."),
              methods: Optional[str] = typer.Option(None, help='Comma list, or "all".'),
              metrics: Optional[str] = typer.Option(None, help='Comma list, or "all".'),
              seed: Optional[int] = typer.Option(None),
              unit_size: Optional[int] = typer.Option(None, help="Examples per unit of work."),
              db: Optional[str] = typer.Option(None, help="SQLite results file (default: lumos-runs/lumos.sqlite)."),
              report: bool = typer.Option(True, help="Write the HTML report at the end.")) -> None:
        """Run explainers x metrics over a dataset, store every result, and write the report."""
        from .bench import BenchSpec
        from .errors import InputError

        flags = {"model": model, "split": split, "n": n, "methods": methods, "metrics": metrics, "seed": seed,
                 "unit_size": unit_size, "db": db}
        if spec is not None:
            bench_spec = BenchSpec.from_toml(spec, **flags)
        elif model is None:
            raise InputError("lumos bench needs --model NAME (or --spec FILE).")
        else:
            bench_spec = BenchSpec(**{k: v for k, v in flags.items() if v is not None})
        run_bench(bench_spec, report)

    @app.command()
    @one_line_errors
    def counterfactual(model: str = typer.Option("tabular/adult/gbm", help="A zoo table model."),
                       row: int = typer.Option(0, help="Row number in the split."),
                       split: str = typer.Option("test", help="train, validation or test."),
                       desired: Optional[str] = typer.Option(None, help="Desired class (default: the other one)."),
                       n: int = typer.Option(5, help="Number of counterfactuals."),
                       method: str = typer.Option("genetic", help="genetic, random, kdtree or gradient."),
                       seed: int = typer.Option(0)) -> None:
        """What would have to change for the decision to flip: a before/after table, changed cells marked."""
        from . import zoo
        from .counterfactuals import CounterfactualExplainer
        from .errors import InputError

        wrapped, splits = zoo.load(model)
        if split not in splits or not 0 <= row < len(splits[split]):
            raise InputError(f"--row {row} --split {split}: the {model} splits are "
                             f"{ {k: len(v) for k, v in splits.items()} } rows long.")
        result = CounterfactualExplainer(wrapped, splits["train"]).explain(
            splits[split].iloc[[row]], desired=desired, n=n, method=method, seed=seed)
        print_counterfactuals(result)

    @app.command("nle")
    @one_line_errors
    def nle_cmd(text: str = typer.Argument(..., help="The sentence to explain."),
                model: str = typer.Option("sentiment/tfidf", help="A zoo text model."),
                style: str = typer.Option("free", help="free, attribution or self_rationalise."),
                max_new_tokens: int = typer.Option(60, help="Longest answer, in tokens."),
                url: Optional[str] = typer.Option(None, help="An OpenAI-compatible endpoint (default: local)."),
                path: Optional[str] = typer.Option(None, help="A local causal LM (default: SmolLM2)."),
                gguf_file: Optional[str] = typer.Option(None, help="GGUF file name inside --path.")) -> None:
        """A language model explains the prediction in words; prints the words it cites."""
        from .nle.cli import explain_one

        for line in explain_one(text, model, style, max_new_tokens, url, path, gguf_file):
            typer.echo(line)

    @app.command("nle-serve")
    @one_line_errors
    def nle_serve_cmd(port: int = typer.Option(8080), host: str = typer.Option("127.0.0.1"),
                      path: Optional[str] = typer.Option(None, help="A local causal LM (default: SmolLM2)."),
                      gguf_file: Optional[str] = typer.Option(None, help="GGUF file name inside --path.")) -> None:
        """Serve a local language model over an OpenAI-compatible API (/v1/chat/completions)."""
        from .nle.cli import serve_until_interrupted

        serve_until_interrupted(host, port, path, gguf_file, typer.echo)

    @app.command("report")
    @one_line_errors
    def report_cmd(run: Optional[str] = typer.Argument(None, help="Run id (default: the latest run)."),
                   db: str = typer.Option("lumos-runs/lumos.sqlite", help="SQLite results file."),
                   out: Optional[str] = typer.Option(None, help="HTML file to write.")) -> None:
        """Write the self-contained HTML report of a run."""
        from .report import render

        typer.echo(f"report: {render(db, run, out)}")

    @app.command()
    @one_line_errors
    def robustness(model: str = typer.Option("sentiment/minilm", help="A zoo name (text, image or table model)."),
                   db: str = typer.Option("lumos-runs/lumos.sqlite", help="SQLite results file."),
                   run: Optional[str] = typer.Option(None, help="Add the section to this run (default: a new one)."),
                   budget: int = typer.Option(200, help="Most model rows per attacked sentence."),
                   seed: int = typer.Option(0)) -> None:
        """Behavioural tests, adversarial attacks and slices with defaults; adds a robustness report section."""
        from .report import render
        from .robustness.run import RobustnessPlan, run_robustness

        run_id = run_robustness(model, RobustnessPlan(budget=budget, seed=seed), db, run, typer.echo)
        typer.echo(f"report: {render(db, run_id)}")


def run_bench(spec, write_report: bool = True) -> str:
    """Run a spec with a progress bar, print the summary table, write the report; returns the run id."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from .bench import Store, run
    from .report import render
    from .report.tables import costs, metric_tables

    console = Console(stderr=True)
    with Progress(TextColumn("[bold]{task.description:<22}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=console, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task(spec.model, total=None)

        def progress(label: str, done: int, total: int) -> None:
            bar.update(task, description=f"{spec.model} · {label}", completed=done, total=total)

        run_id = run(spec, progress=progress)
    store = Store(spec.db)
    try:
        tables = metric_tables(store.frame("scores", run_id).dropna(subset=["value"]))
        cost = costs(store.frame("units", run_id))
    finally:
        store.close()
    _summary(console, tables, cost)
    if write_report:
        console.print(f"report: {render(spec.db, run_id)}")
    console.print(f"run: {run_id} in {spec.db}")
    return run_id


def _summary(console, tables, cost) -> None:
    """One line per metric (methods best first), then the cost line: readable at any terminal width."""
    console.print("[bold]methods from best to worst, per metric[/bold] (mean over examples)")
    for t in tables:
        ranked = "  ".join(f"{m} {row['mean']:.3f}" for m, row in t.rows.iterrows())
        console.print(f"  {t.metric} {'↑' if t.higher_is_better else '↓'}: {ranked}", soft_wrap=True)
    spent = "  ".join(f"{m} {c.rows_per_example:.0f} rows/{c.seconds_per_example:.2f}s"
                      for m, c in cost.sort_values("rows_per_example").iterrows())
    console.print(f"  cost per example: {spent}", soft_wrap=True)


def _table(kind: str, entries: dict, columns: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns[:0])
    table.add_column(kind, no_wrap=True)
    for column in columns:
        table.add_column(column)
    for name, info in entries.items():
        table.add_row(name, *[", ".join(v) if isinstance(v, tuple) else str(v) for v in (info[c] for c in columns)])
    Console().print(table)


def print_counterfactuals(result) -> None:
    """Original row and counterfactuals as one table (a column per feature), changed cells marked."""
    table = result.table(marker="*")
    head = f"{len(result)} counterfactual(s) to {result.desired} by {result.method} in {result.seconds:.2f}s"
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # pragma: no cover - rich is a dependency, the plain table is for stripped installs
        typer.echo(head)
        typer.echo(table.to_string())
    else:
        out = Table(title=head, title_justify="left")
        for column in ["feature", *table.columns]:
            out.add_column(column)
        for feature, values in table.iterrows():
            out.add_row(feature, *[f"[bold yellow]{v}[/]" if v.endswith("*") else v for v in values])
        console = Console()
        console.width = max(console.width, 18 + 20 * len(table.columns))
        console.print(out)
    if result.reason:
        typer.echo(f"no counterfactual: {result.reason}")
    if result.params.get("desired_index") is not None:
        typer.echo(f"p({result.desired}): original {_p(result, result.original_prediction[None])}, counterfactuals "
                   f"{_p(result, result.predictions)}   (* marks a changed cell)")


def _p(result, outputs) -> str:
    """Probabilities of the desired class, two decimals."""
    import numpy as np

    return ", ".join(f"{v:.2f}" for v in np.asarray(outputs)[:, result.params["desired_index"]])

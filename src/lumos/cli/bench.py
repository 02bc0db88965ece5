"""``lumos bench``: explainers x metrics over a dataset, every result stored, a summary printed, the report."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from ._app import app, one_line_errors


@app.command()
@one_line_errors
def bench(spec: Optional[str] = typer.Option(None, help="A TOML spec file; flags override its fields."),
          model: Optional[str] = typer.Option(None, help="A zoo name, a model trained with `lumos train` (name or folder), or package.module:function."),
          split: Optional[str] = typer.Option(None, help="Data split (default: test)."),
          n: Optional[int] = typer.Option(None, help="Number of examples (default: 50)."),
          methods: Optional[str] = typer.Option(None, help='Comma list, or "all".'),
          metrics: Optional[str] = typer.Option(None, help='Comma list, or "all".'),
          seed: Optional[int] = typer.Option(None),
          unit_size: Optional[int] = typer.Option(None, help="Examples per unit of work."),
          db: Optional[str] = typer.Option(None, help="SQLite results file (default: lumos-runs/lumos.sqlite)."),
          report: bool = typer.Option(True, help="Write the HTML report at the end.")) -> None:
    """Run explainers x metrics over a dataset, store every result, and write the report."""
    from ..bench import BenchSpec
    from ..errors import InputError

    flags = {"model": model, "split": split, "n": n, "methods": methods, "metrics": metrics, "seed": seed,
             "unit_size": unit_size, "db": db}
    if spec is not None:
        bench_spec = BenchSpec.from_toml(spec, **flags)
    elif model is None:
        raise InputError("lumos bench needs --model NAME (or --spec FILE).")
    else:
        bench_spec = BenchSpec(**{k: v for k, v in flags.items() if v is not None})
    run_bench(bench_spec, report)


def run_bench(spec, write_report: bool = True) -> str:
    """Run a spec with a progress bar, print the summary table, write the report; returns the run id."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from ..bench import Store, run
    from ..report import render
    from ..report.tables import costs, metric_tables

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

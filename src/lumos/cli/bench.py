"""``lumos bench``: explainers x metrics over a dataset, every result stored, a summary printed, the report."""

from __future__ import annotations

from typing import Optional

import typer

from ._app import app, one_line_errors

LONG_SECONDS = 600  # a run projected past this gets a suggestion of a smaller --n that fits in it


@app.command()
@one_line_errors
def bench(spec: Optional[str] = typer.Option(None, help="A TOML spec file; flags override its fields."),
          model: Optional[str] = typer.Option(None, help="A zoo name, a model trained with `lumos train` (name or folder), or package.module:function."),
          split: Optional[str] = typer.Option(None, help="Data split (default: test)."),
          n: Optional[int] = typer.Option(None, help="Number of examples (default: 50), drawn at random with the "
                                                     "classes in proportion (see --seed); --first takes the first n."),
          first: bool = typer.Option(False, "--first", help="Take the first n rows of the split instead of a "
                                                             "class-stratified sample."),
          methods: Optional[str] = typer.Option(None, help='Explanation methods, comma-separated (see `lumos '
                                                           'methods`), or "all" (default): every method that applies '
                                                           "to the model, exact_shapley excepted."),
          metrics: Optional[str] = typer.Option(None, help='Metrics, comma-separated (see `lumos metrics`), or "all" '
                                                           "(default): every metric that applies to the model and data."),
          seed: Optional[int] = typer.Option(None, help="Seed (default: 0) of the example sample and of every random "
                                                        "method and metric; the same seed gives the same run."),
          unit_size: Optional[int] = typer.Option(None, help="Examples per unit of work (default: 10); a unit is "
                                                             "stored when it finishes."),
          data: Optional[str] = typer.Option(None, help="A Parquet or CSV file of examples, read a slice at a "
                                             "time (in place of --split)."),
          db: Optional[str] = typer.Option(None, help="SQLite results file (default: lumos-runs/lumos.sqlite)."),
          backend: str = typer.Option("local", help='Where units run: "local" (this process) or "ray".'),
          address: Optional[str] = typer.Option(None, help="Ray cluster to join (--backend ray; default: "
                                                "$RAY_ADDRESS, else a local Ray)."),
          report: bool = typer.Option(True, help="Write the HTML report at the end.")) -> None:
    """Run explainers x metrics over a dataset, store every result, and write the report."""
    from ..bench import BenchSpec
    from ..errors import InputError

    flags = {"model": model, "split": split, "n": n, "methods": methods, "metrics": metrics, "seed": seed,
             "unit_size": unit_size, "data": data, "db": db, "first": first or None}
    if spec is not None:
        bench_spec = BenchSpec.from_toml(spec, **flags)
    elif model is None:
        raise InputError("lumos bench needs --model NAME (or --spec FILE).")
    else:
        bench_spec = BenchSpec(**{k: v for k, v in flags.items() if v is not None})
    run_bench(bench_spec, report, backend=backend, address=address)


def run_bench(spec, write_report: bool = True, backend: str = "local", address: str | None = None) -> str:
    """Run a spec with a progress bar (per example), after a probe that says what the run will cost (local
    backend); print the summary; write the report; returns the run id."""
    from rich.console import Console

    import warnings

    from ..bench import Store, run
    from ..bench.runner import RunIncomplete
    from ..errors import LumosWarning
    from ..progress import Bar, duration
    from ..report import render
    from ..report.summary import plain_summary
    from ..report.tables import attribution_summary, costs, metric_tables

    console = Console(stderr=True, highlight=False)
    bar: list[Bar] = []

    def estimate(est) -> None:
        line = (f"{spec.model}: {sum(est.todo.values())} explanations to compute and score ({len(est.todo)} "
                f"methods); about {duration(est.seconds)} on this machine (a probe of one example per method took "
                f"{duration(est.probe_seconds)})")
        if est.seconds > LONG_SECONDS:
            small = est.n_within(LONG_SECONDS)
            if small < spec.n:
                line += f"; --n {small} would take about {duration(est.seconds_for(small))}"
        console.print(line + ".", soft_wrap=False)

    def progress(label: str, done: float, total: float) -> None:
        if not bar:
            bar.append(Bar(total, spec.model, True, unit="explanations", done=done))
        bar[0].set(done, f"{spec.model} · {label}")

    failed = None
    with warnings.catch_warnings():  # the summary counts the degenerate explanations the warnings are about
        warnings.simplefilter("ignore", LumosWarning)
        try:
            run_id = run(spec, progress=progress, estimate=estimate if backend == "local" else None,
                         backend=backend, address=address)
        except RunIncomplete as e:  # the finished units are stored: show them, then exit non-zero
            run_id, failed = e.run_id, e
    if bar:
        bar[0].close()
    store = Store(spec.db)
    try:
        degenerate, per_pair, flagged = attribution_summary(store, run_id)
        tables = metric_tables(store.frame("scores", run_id).dropna(subset=["value"]), degenerate)
        cost = costs(store.frame("units", run_id))
        lines = plain_summary(tables, cost, per_pair, spec.model, flagged)
    finally:
        store.close()
    summary(console, tables, cost, lines)
    if write_report:
        console.print(f"report: {render(spec.db, run_id)}")
    console.print(f"run: {run_id} in {spec.db}")
    if failed is not None:
        raise failed
    return run_id


def summary(console, tables, cost, lines: list[str]) -> None:
    """The plain-language summary, then one block per metric (methods best first, with their tie-aware rank),
    then the cost: wrapped to the terminal, readable at 80 columns."""
    import textwrap

    width = max(60, min(console.width, 100))

    def say(text: str, indent: str = "  ", bold: bool = False) -> None:
        for line in textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent + "  ",
                                  break_long_words=False, break_on_hyphens=False):
            console.print(f"[bold]{line}[/bold]" if bold else line, markup=bold, soft_wrap=True)

    if lines:
        console.print("[bold]In short[/bold]")
        for line in lines:
            say("- " + line)
    console.print("[bold]Methods from best to worst, per metric[/bold] (mean over examples; #rank, = tied: "
                  "the difference is inside the 95% interval; † favoured by construction, not ranked)")
    for t in tables:
        ranked = []
        for m, row in t.rows.iterrows():
            mark = "†" if m in t.favours else f"#{int(row['rank'])}{'=' if row['tied'] else ''}"
            ranked.append(f"{m} {row['mean']:.3f} ({mark})")
        say(f"{t.metric} {'↑' if t.higher_is_better else '↓'}: " + "  ".join(ranked))
    spent = "  ".join(f"{m} {c.rows_per_example:.0f} rows/{c.seconds_per_example:.3g}s"
                      for m, c in cost.sort_values("rows_per_example").iterrows())
    say(f"cost per example: {spent}")

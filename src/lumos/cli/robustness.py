"""``lumos robustness``: suites, attacks and slices with defaults on a zoo model, as a report section."""

from __future__ import annotations

import time
from typing import Optional

import typer

from ._app import app, one_line_errors


@app.command()
@one_line_errors
def robustness(model: str = typer.Option("sentiment/minilm", help="A zoo name or a model trained with `lumos train` (text, image or table)."),
               db: str = typer.Option("lumos-runs/lumos.sqlite", help="SQLite results file."),
               run: Optional[str] = typer.Option(None, help="Add the section to this run (default: a new one)."),
               budget: int = typer.Option(200, help="Most model rows per attacked sentence."),
               seed: int = typer.Option(0)) -> None:
    """Behavioural tests, adversarial attacks and slices with defaults; adds a robustness report section."""
    from ..training import resolve
    from ..bench import add_section
    from ..report import render
    from ..progress import duration
    from ..robustness import RobustnessPlan, stress_test

    wrapped, splits = resolve(model)
    result = stress_test(wrapped, splits["test"], RobustnessPlan(budget=budget, seed=seed), typer.echo)
    result.headline.append(f"{model}, test split, seed {seed}; {result.model_rows} model rows, "
                           f"{duration(result.seconds)}.")
    run_id = run or f"robustness-{model.replace('/', '-')}-{time.strftime('%Y%m%d-%H%M%S')}"
    add_section(db, run_id, "robustness", result, model_name=model, split="test", modality=result.modality,
                labels=list(wrapped.labels or []), seed=seed)
    for line in result.headline:  # the headline figures, as the report opens with them
        typer.echo(line)
    typer.echo(f"report: {render(db, run_id)}")

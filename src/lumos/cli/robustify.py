"""``lumos robustify``: discover an artifact, repair the training data, retrain through the zoo's recipe and
measure before and after, as a report section."""

from __future__ import annotations

import time
from typing import List, Optional

import typer

from ._app import app, one_line_errors


@app.command()
@one_line_errors
def robustify(model: str = typer.Option("sentiment/tfidf", help="A trainable zoo name; its recipe trains every "
                                                                "model (sentiment/tfidf, sentiment/minilm, "
                                                                "tabular/adult/gbm, ...)."),
              inject: str = typer.Option("token", help="Plant an artifact first: token or punctuation (text), "
                                                       "proxy (tables); 'none' uses the data as it is."),
              strength: float = typer.Option(0.9, help="Share of the planted artifact's rows with its label."),
              coverage: float = typer.Option(0.1, help="Share of training rows that carry the planted artifact."),
              repair: Optional[List[str]] = typer.Option(None, "--repair", help="A repair (repeat for several); "
                                                         "default: augment, jtt, group_balance, "
                                                         "confident_learning. `lumos catalog repair` lists them."),
              discoverer: str = typer.Option("statistics", help="Ranks the candidates; the top one is repaired. "
                                                                "`lumos catalog discoverer` lists them."),
              artifact: Optional[str] = typer.Option(None, help="Repair this candidate (e.g. 'kowalczyk' or "
                                                                "'native_country = Atlantis') instead of the top one."),
              db: str = typer.Option("lumos-runs/lumos.sqlite", help="SQLite results file."),
              run: Optional[str] = typer.Option(None, help="Add the section to this run (default: a new one)."),
              seed: int = typer.Option(0)) -> None:
    """Discover -> repair -> retrain -> measure, with defaults; adds a robustify report section."""
    from .. import artifacts, curate, zoo
    from ..bench import add_section
    from ..bench.sections.robustify import headline
    from ..errors import InputError
    from ..report import render

    entry = zoo.get(model)
    if entry.train is None:
        raise InputError(f"{model} is pre-trained; robustify retrains, so pick a trainable zoo name.")
    data = None
    if inject != "none":
        planted = artifacts.inject(model, inject, strength=strength, coverage=coverage, seed=seed)
        typer.echo(planted.describe())
        data = planted
    repairs = tuple(repair) if repair else curate.DEFAULT_REPAIRS
    typer.echo(f"training {model}, discovering with {discoverer}, repairing with {', '.join(repairs)} ...")
    result = curate.robustify(model, data, repairs=repairs, discoverer=discoverer, artifact=artifact, seed=seed,
                              progress=True)
    run_id = run or f"robustify-{model.replace('/', '-')}-{time.strftime('%Y%m%d-%H%M%S')}"
    modality = "text" if result.views[0].is_text else "tabular"
    add_section(db, run_id, "robustify", result, model_name=model, split="test", modality=modality,
                labels=list(result.views[0].labels), seed=seed)
    for line in result.lines()[1:-1]:
        typer.echo(line)
    for line in headline(result):
        typer.echo(line)
    typer.echo(f"{result.seconds['total']:.0f} s; report: {render(db, run_id)}")

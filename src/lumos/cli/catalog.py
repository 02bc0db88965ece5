"""``lumos methods``, ``lumos metrics`` and ``lumos catalog KIND``: what is registered, as a table."""

from __future__ import annotations

import typer

from ._app import app, one_line_errors

COLUMNS = {"explainer": ["modalities", "requires", "summary"], "metric": ["family", "higher_is_better", "modalities",
                                                                        "summary"]}


@app.command()
@one_line_errors
def methods() -> None:
    """List the explanation methods."""
    show("explainer")


@app.command()
@one_line_errors
def metrics() -> None:
    """List the evaluation metrics."""
    show("metric")


@app.command()
@one_line_errors
def catalog(kind: str = typer.Argument("explainer", help="explainer, metric, attack, influence, counterfactual, "
                                                         "section or zoo.")) -> None:
    """List the registered plug-ins of one kind with their modalities, needs and summary."""
    show(kind)


def show(kind: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from .. import registry

    columns = COLUMNS.get(kind, ["modalities", "requires", "summary"])
    table = Table()
    table.add_column(kind, no_wrap=True)
    for column in columns:
        table.add_column(column)
    for name, info in registry.describe(kind).items():
        table.add_row(name, *[", ".join(map(str, v)) if isinstance(v, (tuple, list)) else str(v)
                              for v in (info.get(c, "") for c in columns)])
    Console().print(table)

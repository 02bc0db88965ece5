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


WIDE = 110  # narrower terminals get one entry per paragraph instead of a table


def show(kind: str) -> None:
    """The registered plug-ins of ``kind``: a table on a wide terminal; on a narrow one (or piped at 80 columns)
    a line per plug-in with its family, direction and modalities, then its summary wrapped underneath."""
    import textwrap

    from rich.console import Console
    from rich.table import Table

    from .. import registry

    columns = COLUMNS.get(kind, ["modalities", "requires", "summary"])
    console = Console(highlight=False)

    def text(value) -> str:
        if isinstance(value, bool) and value in (True, False) and kind == "metric":
            return "higher is better" if value else "lower is better"
        return ", ".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)

    entries = registry.describe(kind).items()
    if console.width >= WIDE:
        table = Table()
        table.add_column(kind, no_wrap=True)
        for column in columns:
            table.add_column(column)
        for name, info in entries:
            table.add_row(name, *[text(info.get(c, "")) for c in columns])
        console.print(table)
        return
    for name, info in entries:
        facts = "; ".join(("needs " + t if c == "requires" else t) for c, t in
                          ((c, text(info.get(c, ""))) for c in columns if c != "summary") if t)
        console.print(f"[bold]{name}[/bold]" + (f" ({facts})" if facts else ""), soft_wrap=True)
        for line in textwrap.wrap(str(info.get("summary", "")), max(40, console.width - 4)):
            console.print("    " + line, markup=False, soft_wrap=True)

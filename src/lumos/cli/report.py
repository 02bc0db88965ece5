"""``lumos report``: the self-contained HTML report of a run in the store."""

from __future__ import annotations

from typing import Optional

import typer

from ._app import app, one_line_errors


@app.command("report")
@one_line_errors
def report(run: Optional[str] = typer.Argument(None, help="Run id (default: the latest run)."),
           db: str = typer.Option("lumos-runs/lumos.sqlite", help="SQLite results file."),
           out: Optional[str] = typer.Option(None, help="HTML file to write.")) -> None:
    """Write the self-contained HTML report of a run."""
    from ..report import render

    typer.echo(f"report: {render(db, run, out)}")

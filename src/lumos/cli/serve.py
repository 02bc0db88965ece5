"""``lumos serve``: the interactive workbench in the browser, over a run store."""

from __future__ import annotations

from typing import List, Optional

import typer

from ._app import app, one_line_errors


@app.command()
@one_line_errors
def serve(db: str = typer.Option("lumos-runs/lumos.sqlite", help="SQLite results file (created when missing)."),
          model: Optional[List[str]] = typer.Option(None, "--model", help="A model for live work: a zoo name or "
                                                    "package.module:function (repeat for several; a run's own "
                                                    "zoo model is used for its examples when it has one)."),
          host: str = typer.Option("127.0.0.1", help="Address to bind; any but loopback needs the access token."),
          port: int = typer.Option(8765, help="Port."),
          token: Optional[str] = typer.Option(None, help="Access token (default: none on 127.0.0.1, a random one "
                                                         "printed in the URL otherwise)."),
          max_upload_mb: float = typer.Option(8.0, help="Largest image upload, in MB.")) -> None:
    """Open a store in the browser: runs, data table, examples, what-if, compare, background jobs."""
    try:
        from ..serve import serve as run_server
    except ImportError as e:  # starlette / uvicorn are the serve extra
        raise typer.BadParameter(f"lumos serve needs the serve extra: pip install 'lumos[serve]' ({e}).") from None

    run_server(db, tuple(model or ()), host, port, token, max_upload_mb,
               announce=lambda address: typer.echo(f"lumos serve: open {address}  (Ctrl-C stops)"))

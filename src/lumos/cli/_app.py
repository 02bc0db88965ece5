"""The ``lumos`` Typer application, its global options, and the one way commands report errors."""

from __future__ import annotations

import functools
import os
from typing import Any, Callable

import typer

app = typer.Typer(help="lumos: explain, evaluate and stress-test classifiers.", no_args_is_help=True)
zoo_app = typer.Typer(help="Real models on real data, offline: list them, train and cache them.",
                      no_args_is_help=True)
app.add_typer(zoo_app, name="zoo")

DEBUG = {"on": False}


@app.callback()
def main(debug: bool = typer.Option(False, "--debug", help="Show tracebacks instead of one-line errors.")) -> None:
    """lumos: explain, evaluate and stress-test classifiers on text, images and tables."""
    DEBUG["on"] = debug
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def one_line_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """LumosError (and bad files) -> one red line and exit code 1, unless --debug."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ..errors import LumosError

        try:
            return fn(*args, **kwargs)
        except (LumosError, OSError) as e:
            if DEBUG["on"]:
                raise
            typer.secho(f"error: {e}", fg="red", err=True)
            raise typer.Exit(1) from None

    return wrapper

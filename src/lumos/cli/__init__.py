"""The ``lumos`` command line: one module per command, all on one Typer ``app`` (``lumos --help``)."""

from . import (bench, catalog, counterfactual, demo, explain, nle, report, robustify, robustness,  # noqa: F401
               serve, train, weak, zoo)  # (commands)
from ._app import app

__all__ = ["app"]

"""The ``lumos`` command line: one module per command, all on one Typer ``app`` (``lumos --help``)."""

from . import bench, catalog, counterfactual, demo, explain, nle, report, robustness, train, zoo  # noqa: F401  (commands)
from ._app import app

__all__ = ["app"]

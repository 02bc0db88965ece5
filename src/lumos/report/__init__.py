"""The HTML report of a bench run, and the views notebooks show for single explanations."""

from .render import render

__all__ = ["render"]

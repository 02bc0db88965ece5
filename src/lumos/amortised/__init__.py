"""Amortised explanations: train an explainer once on a sample of the data, then explain each further example
in one forward pass of it (``fit_fastshap``; used by ``lumos.explain(..., method="fastshap")``)."""

from .fastshap import FastShap, fit_fastshap

__all__ = ["FastShap", "fit_fastshap"]

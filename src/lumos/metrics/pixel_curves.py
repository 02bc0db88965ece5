"""Shared by deletion and insertion (Petsiuk et al. 2018): the target probability as pixels are removed from
the input (or added to the baseline) in attribution order, all steps of all images in one batched stream."""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..features.image import ImagePerturbation, image_baseline
from ..features.masking import masked_probs
from ..rationales import rank
from .base import EvalContext


def pixel_items(ctx: EvalContext, baseline: object) -> list[ImagePerturbation]:
    """Each pixel (all its channels) is one feature, replaced by the baseline image when removed."""
    _, _, h, w = ctx.batch.x.shape
    labels = np.arange(h * w).reshape(h, w)
    return [ImagePerturbation(x, image_baseline(x, baseline), labels=labels) for x in ctx.batch.x]


def pixel_curve(ctx: EvalContext, steps: int, baseline: object, insert: bool, order: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps + 1,) fractions and (B, steps + 1) target probabilities.

    Deletion keeps all but the first fraction of ranked pixels; insertion keeps only them.
    ``order``: "most" relevant first (MoRF) or "least" relevant first (LeRF).
    """
    if steps < 1 or order not in ("most", "least"):
        raise InputError(f"need steps >= 1 and order 'most' or 'least'; got {steps}, {order!r}.")
    fractions = np.linspace(0, 1, steps + 1)
    masks = []
    for s in ctx.scores():
        ranked = rank(s if order == "most" else -s)
        n = len(s)
        counts = np.ceil(fractions * n - 1e-9).astype(int)
        first = np.zeros((len(counts), n), dtype=bool)
        for row, c in enumerate(counts):
            first[row, ranked[:c]] = True
        masks.append(first if insert else ~first)
    probs = masked_probs(ctx.model, pixel_items(ctx, baseline), masks)
    return fractions, np.array([p[:, t] for p, t in zip(probs, ctx.targets)])


def area(fractions: np.ndarray, curve: np.ndarray) -> np.ndarray:
    """(B,) trapezoidal area under each curve over fractions in [0, 1]."""
    return np.trapezoid(curve, fractions, axis=1)

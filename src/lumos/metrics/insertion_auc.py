"""Insertion (Petsiuk et al. 2018): area under the target probability as the most relevant pixels are put
back into a baseline image (blurred by default)."""

from __future__ import annotations

from dataclasses import dataclass

from ..params import AnyOf, Array, Choice, Float, Int, param
from ..registry import register
from .base import Metric
from .pixel_curves import area, pixel_curve


@register("insertion_auc", kind="metric")
@dataclass(frozen=True)
class InsertionAuc(Metric):
    """Higher is better for ``order="most"``; with ``order="least"`` lower is better."""

    family = "faithfulness"
    higher_is_better = True
    bounds = (0.0, 1.0)
    modalities = ("image",)
    summary = "Area under the probability curve while inserting the most relevant pixels first."
    plain = ("How fast the model's confidence rises as the pixels the method ranks highest are put back first into a "
             "blank image (area under that curve).")
    misleads = ("Half-restored images are unlike real photos; a blank or constant map orders pixels by position and "
                "can score by chance.")
    shared_details = ("fractions",)
    steps: int = param(20, Int(low=1, high=10_000))
    baseline: object = param("blur", AnyOf(Choice("zeros", "mean", "blur"), Float(), Array()))
    order: str = param("most", Choice("most", "least"))

    def compute(self, ctx):
        fractions, curve = pixel_curve(ctx, self.steps, self.baseline, insert=True, order=self.order)
        return area(fractions, curve), {"fractions": fractions, "curve": curve}

"""Deletion (Petsiuk et al. 2018): area under the target probability as the most relevant pixels are removed."""

from __future__ import annotations

from dataclasses import dataclass

from ..params import AnyOf, Array, Choice, Float, Int, param
from ..registry import register
from .base import Metric
from .pixel_curves import area, pixel_curve


@register("deletion_auc", kind="metric")
@dataclass(frozen=True)
class DeletionAuc(Metric):
    """Removed pixels take ``baseline`` ("zeros", "mean", "blur", a value). Lower is better for
    ``order="most"``; with ``order="least"`` (least relevant first) higher is better."""

    family = "faithfulness"
    higher_is_better = False
    bounds = (0.0, 1.0)
    modalities = ("image",)
    summary = "Area under the probability curve while deleting the most relevant pixels first."
    plain = ("How fast the model's confidence falls as the pixels the method ranks highest are deleted first (area "
             "under that curve).")
    misleads = ("Deleted pixels make images the model never saw: a method can score well by finding pixels whose "
                "removal creates odd artefacts.")
    shared_details = ("fractions",)
    steps: int = param(20, Int(low=1, high=10_000))
    baseline: object = param("zeros", AnyOf(Choice("zeros", "mean", "blur"), Float(), Array()))
    order: str = param("most", Choice("most", "least"))

    def compute(self, ctx):
        fractions, curve = pixel_curve(ctx, self.steps, self.baseline, insert=False, order=self.order)
        return area(fractions, curve), {"fractions": fractions, "curve": curve}

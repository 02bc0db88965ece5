"""Agreement with a reference explanation of the same inputs (e.g. another method), as a metric."""

from __future__ import annotations

from dataclasses import dataclass

from ..comparison import per_example
from ..errors import InputError
from ..registry import register
from .base import Metric


@register("agreement", kind="metric")
@dataclass(frozen=True)
class AgreementMetric(Metric):
    """``reference``: Explanations of the same inputs. Score: Spearman of |attributions|; details: Kendall
    and the Jaccard overlap of the top ``k`` features. For the full matrix use ``lumos.agreement``."""

    family = "agreement"
    higher_is_better = True
    bounds = (-1.0, 1.0)
    summary = "Rank agreement with another method's explanation of the same inputs."
    needs_reference = True
    reference: object = None
    k: int = 5
    absolute: bool = True

    def compute(self, ctx):
        if self.reference is None:
            raise InputError("agreement needs reference=<Explanations of the same inputs by another method>.")
        scores = per_example(ctx.explanations, self.reference, self.k, self.absolute)
        return scores["spearman"], {"kendall": scores["kendall"], "jaccard": scores["jaccard"]}

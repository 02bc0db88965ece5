"""Agreement with a reference explanation of the same inputs (e.g. another method), as a metric."""

from __future__ import annotations

from dataclasses import dataclass

from ..comparison import per_example
from ..errors import InputError
from ..params import Bool, Instance, Int, Optional, param
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
    plain = ("How similarly this method orders the features as a reference method does (1: the same order, 0: "
             "unrelated).")
    misleads = ("Agreement is not correctness: two methods can agree and both be wrong, and a method compared with "
                "itself scores 1.")
    undefined = "either explanation is constant"
    needs_reference = True
    reference: object = param(None, Optional(Instance("Explanations of the same inputs", "targets", "__len__")))
    k: int = param(5, Int(low=1))
    absolute: bool = param(True, Bool())

    def favoured(self) -> dict[str, str]:
        """The reference's own method: a method agrees with itself by construction."""
        method = getattr(self.reference, "method", None)
        return {method: "a method agrees with itself by construction"} if method else {}

    def compute(self, ctx):
        if self.reference is None:
            raise InputError("agreement needs reference=<Explanations of the same inputs by another method>.")
        scores = per_example(ctx.explanations, self.reference, self.k, self.absolute)
        return scores["spearman"], {"kendall": scores["kendall"], "jaccard": scores["jaccard"]}

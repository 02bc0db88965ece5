"""Agreement between the words an explanation cites and the top words of a lumos attribution method."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import InputError
from ...rationales import top_k
from ...registry import register
from ...metrics.base import Metric


@register("citation_agreement", kind="metric")
@dataclass(frozen=True)
class CitationAgreement(Metric):
    """Score: |C & T| / |C|, C the cited words (attribution > 0), T the |C| top words of ``reference``
    (Explanations of the same inputs) or, when it is None, of ``method`` run here (``params`` its
    hyper-parameters; "occlusion" reuses the leave-one-out drops other metrics share). Details: the Jaccard
    overlap with the top ``k`` words (k=None: |C|). Citing nothing scores 0, flagged in "no_citation"."""

    family = "agreement"
    higher_is_better = True
    bounds = (0.0, 1.0)
    modalities = ("text",)
    for_generated = True
    summary = "Share of the cited words that are among an attribution method's top words."
    method: str = "occlusion"
    params: object = None
    reference: object = None
    k: int | None = None

    def compute(self, ctx):
        cited = [s > 0 for s in ctx.scores()]
        reference = self._reference(ctx)
        scores, jaccard = [], []
        for c, r in zip(cited, reference):
            m = int(c.sum())
            scores.append((c & top_k(r, m)).sum() / m if m else 0.0)
            top = top_k(r, m if self.k is None else min(int(self.k), len(r)))
            union = (c | top).sum()
            jaccard.append((c & top).sum() / union if union else 0.0)
        return np.array(scores), {"jaccard": np.array(jaccard), "no_citation": np.array([not c.any() for c in cited])}

    def _reference(self, ctx) -> list[np.ndarray]:
        if self.reference is not None:
            if len(self.reference) != len(ctx.explanations):
                raise InputError(f"reference has {len(self.reference)} explanations for {len(ctx.explanations)} "
                                 "inputs; explain the same inputs.")
            out = [np.asarray(e.attributions, dtype=np.float64) for e in self.reference]
            for i, (r, s) in enumerate(zip(out, ctx.scores())):
                if r.shape != s.shape:
                    raise InputError(f"reference explanation {i} has {r.size} features; the explanation has {s.size}: "
                                     "explain the same inputs at the same granularity.")
            return out
        if self.method == "occlusion" and not self.params:
            return ctx.leave_one_out()
        expl = ctx.explain(self.method, **dict(self.params or {}))
        return [np.asarray(e.attributions, dtype=np.float64) for e in expl]

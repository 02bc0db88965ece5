"""Random attributions: the floor any method must clear on faithfulness and plausibility metrics."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from ..registry import register
from .base import Attribution, Explainer


@register("random")
@dataclass(frozen=True)
class RandomBaseline(Explainer):
    """Standard normal scores per feature (images: one per pixel), drawn from the seed and the example's
    own content, so the result does not depend on the batch. No model calls."""

    summary = "Random scores: a baseline that real methods must beat."
    plain = "Random scores, drawn without looking at the model: the floor any method must clear."
    misleads = "A method that does not beat it on a metric cannot be told from chance by that metric."
    random = True

    def attribute(self, model, batch, targets, probs, seed):
        out = []
        for i in range(len(batch)):
            if batch.docs is not None:
                content, shape = batch.docs[i].text.encode(), (batch.docs[i].n_features,)
            else:
                x = batch.x[i]
                content = repr(x.tolist()).encode() if x.dtype == object else np.ascontiguousarray(x).tobytes()
                shape = (1,) + x.shape[1:] if x.ndim == 3 else x.shape
            rng = np.random.default_rng([seed, zlib.crc32(content)])
            out.append(Attribution(rng.standard_normal(shape)))
        return out

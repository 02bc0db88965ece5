"""Adapter for any callable batch -> probabilities (or logits, with ``output="logits"``)."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ..errors import ModelError
from ..features.text import Granularity, TextDoc, word_doc
from .base import Model


class CallableModel(Model):
    """``fn`` takes a batch (list of strings, (B, C, H, W) array or (B, F) array) and returns (B, K)."""

    modalities = ("text", "image", "tabular")

    def __init__(self, fn: Callable, labels: Sequence[str] | None = None, batch_size: int | str = "auto",
                 output: str = "probabilities"):
        super().__init__(labels, batch_size)
        if output not in ("probabilities", "logits"):
            raise ModelError(f"output must be 'probabilities' or 'logits'; got {output!r}.")
        self.fn = fn
        self.output = output

    def _text_docs(self, texts: list[str], granularity: Granularity) -> list[TextDoc]:
        return [word_doc(t) for t in texts]

    def _probs(self, rows) -> np.ndarray:
        out = self.fn(list(rows) if isinstance(rows, list) else rows)
        if hasattr(out, "detach"):
            out = out.detach().cpu().numpy()
        p = np.asarray(out, dtype=np.float64)
        if self.output == "logits":
            p = np.exp(p - p.max(axis=-1, keepdims=True))
            return p / p.sum(axis=-1, keepdims=True)
        if not np.all(np.isfinite(p)):
            raise ModelError("the model returned NaN or inf probabilities.")
        if p.ndim == 2 and (p.min() < -1e-6 or p.max() > 1 + 1e-6 or np.abs(p.sum(1) - 1).max() > 1e-3):
            raise ModelError(f"the callable must return probabilities (rows summing to 1); got rows summing to "
                             f"{p.sum(1)[:3].round(3).tolist()}... If it returns logits, use "
                             "lumos.wrap(fn, output='logits').")
        return p

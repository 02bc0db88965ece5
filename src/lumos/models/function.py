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
    output_hint = " (if the callable returns logits, use lumos.wrap(fn, output='logits'))"

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
        try:
            out = self.fn(list(rows) if isinstance(rows, list) else rows)
        except Exception as e:  # noqa: BLE001 - the user's function failed: say so, keep its traceback
            raise ModelError(f"the model function raised {type(e).__name__} on a batch of {len(rows)} rows: "
                             f"{str(e).splitlines()[0] if str(e) else ''}") from e
        if hasattr(out, "detach"):
            out = out.detach().cpu().numpy()
        if self.output == "logits":
            try:
                z = np.asarray(out, dtype=np.float64)
            except (TypeError, ValueError) as e:
                raise ModelError(f"the callable returned {type(out).__name__}, not an array of logits ({e}).") from None
            if z.ndim != 2 or not np.isfinite(z).all():
                raise ModelError(f"output='logits' needs (N, n_classes) finite logits; got shape {z.shape}"
                                 f"{'' if z.ndim != 2 or np.isfinite(z).all() else ' with NaN or inf'}.")
            p = np.exp(z - z.max(axis=-1, keepdims=True))
            return p / p.sum(axis=-1, keepdims=True)
        return out

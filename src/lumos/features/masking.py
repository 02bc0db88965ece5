"""Evaluate keep-masks of many examples through the model in large batches.

Every perturbation method and every removal metric goes through ``masked_probs``: the masked inputs of all
examples are rendered chunk by chunk (bounded memory), concatenated across examples, and sent to the model
adapter, which splits them into its own batch size. One Python loop over chunks, none over samples.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np


class Perturbable(Protocol):
    """One example whose features can be removed (TextDoc renderer, ImagePerturbation, TabularPerturbation)."""

    @property
    def n_features(self) -> int: ...

    def render(self, keep: np.ndarray) -> list | np.ndarray: ...


_CHUNK_BYTES = 64 * 2**20
_CHUNK_ROWS = 4096


def masked_probs(model, items: Sequence[Perturbable], masks: Sequence[np.ndarray]) -> list[np.ndarray]:
    """For each example i, its masks (S_i, F_i) bool -> (S_i, K) probabilities.

    Models see ``item.replicates`` rows per mask (tabular background rows); their outputs are averaged.
    """
    out: list[np.ndarray] = [np.empty((len(m), 0)) for m in masks]
    pending: list = []  # rendered rows waiting for the model
    owners: list[tuple[int, int, int, int]] = []  # (example, lo, hi, replicates)
    pending_rows = 0
    pieces: list[list[tuple[int, np.ndarray]]] = [[] for _ in masks]

    def flush() -> None:
        nonlocal pending, owners, pending_rows
        if not owners:
            return
        rows = np.concatenate(pending) if isinstance(pending[0], np.ndarray) else [r for p in pending for r in p]
        probs = model.evaluate(rows)
        pos = 0
        for i, lo, hi, rep in owners:
            n = (hi - lo) * rep
            block = probs[pos:pos + n]
            pos += n
            if rep > 1:
                block = block.reshape(hi - lo, rep, -1).mean(axis=1)
            pieces[i].append((lo, block))
        pending, owners, pending_rows = [], [], 0

    for i, (item, m) in enumerate(zip(items, masks)):
        rep = int(getattr(item, "replicates", 1))
        row_bytes = int(item.row_bytes()) if hasattr(item, "row_bytes") else 1024
        per_chunk = max(1, min(_CHUNK_ROWS, _CHUNK_BYTES // max(row_bytes, 1)) // rep)
        for lo in range(0, len(m), per_chunk):
            hi = min(len(m), lo + per_chunk)
            pending.append(item.render(m[lo:hi]))
            owners.append((i, lo, hi, rep))
            pending_rows += (hi - lo) * rep
            if pending_rows * row_bytes >= _CHUNK_BYTES or pending_rows >= _CHUNK_ROWS:
                flush()
    flush()
    for i, parts in enumerate(pieces):
        if parts:
            out[i] = np.concatenate([b for _, b in sorted(parts, key=lambda p: p[0])])
    return out

"""Evaluate keep-masks of many examples through the model in large batches.

Every perturbation method and every removal metric goes through ``masked_probs``: the masked inputs of all
examples are rendered chunk by chunk (bounded memory), concatenated across examples, and sent to the model
adapter, which splits them into its own batch size. One Python loop over chunks, none over samples.
"""

from __future__ import annotations

import warnings
from typing import Callable, Protocol, Sequence, Union

import numpy as np

from ..errors import LumosWarning


class Perturbable(Protocol):
    """One example whose features can be removed (TextDoc renderer, ImagePerturbation, TabularPerturbation)."""

    @property
    def n_features(self) -> int: ...

    def render(self, keep: np.ndarray) -> list | np.ndarray: ...


_CHUNK_BYTES = 64 * 2**20
_CHUNK_ROWS = 4096
# above these the caller is told up front how much work lies ahead (a warning, not an error)
HUGE_ROWS = 2_000_000
HUGE_BYTES = 8 * 2**30


class MaskRows:
    """Keep-masks (S, F) made on demand, ``rows(lo, hi)`` at a time, so that S x F bools never sit in memory
    at once (leave-one-out on a 50,000-word text would be a 2.5 GB identity). Sliced like an array."""

    def __init__(self, n_rows: int, n_features: int, rows: Callable[[int, int], np.ndarray]):
        self.shape = (int(n_rows), int(n_features))
        self._rows = rows

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index: slice) -> np.ndarray:
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("MaskRows takes contiguous slices only")
        lo, hi, _ = index.indices(self.shape[0])
        return self._rows(lo, max(lo, hi))

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return np.asarray(self[:], dtype=dtype)


Masks = Union[np.ndarray, MaskRows]


def leave_one_out(n_features: int) -> MaskRows:
    """(F, F) masks: row j keeps every feature but j."""
    def rows(lo: int, hi: int) -> np.ndarray:
        m = np.ones((hi - lo, n_features), dtype=bool)
        m[np.arange(hi - lo), np.arange(lo, hi)] = False
        return m

    return MaskRows(n_features, n_features, rows)


def with_full_row(masks: Masks) -> MaskRows:
    """``masks`` with an all-kept row in front (the unperturbed input, evaluated in the same stream)."""
    n, f = len(masks), masks.shape[1]

    def rows(lo: int, hi: int) -> np.ndarray:
        out = np.ones((hi - lo, f), dtype=bool)
        a, b = max(lo, 1), max(hi, 1)
        if b > a:
            out[a - lo:] = masks[a - 1:b - 1]
        return out

    return MaskRows(n + 1, f, rows)


def random_subsets(sizes: np.ndarray, n_features: int, rng: np.random.Generator) -> np.ndarray:
    """(R, F) bool: row r holds ``sizes[r]`` features drawn uniformly without replacement (the ranks of uniform
    draws); drawn in blocks of rows, so the (R, F) float draws never sit in memory at once. The same stream as
    one ``rng.random((R, F))``."""
    out = np.empty((len(sizes), n_features), dtype=bool)
    block = max(1, 2**20 // max(n_features, 1))
    for lo in range(0, len(sizes), block):
        hi = min(len(sizes), lo + block)
        out[lo:hi] = rng.random((hi - lo, n_features)).argsort(axis=1) < np.asarray(sizes[lo:hi])[:, None]
    return out


def warn_if_huge(what: str, rows: int, input_bytes: float) -> None:
    """A LumosWarning when ``rows`` model rows or ``input_bytes`` of model input are about to be spent."""
    if rows > HUGE_ROWS or input_bytes > HUGE_BYTES:
        warnings.warn(f"{what} will send {rows:,} rows (about {input_bytes / 2**30:,.1f} GB of model input) through "
                      "the model; this can take very long. Lower the budget (n_samples, steps), shorten or split "
                      "the inputs, or use a sampling method (lime, kernel_shap) with a fixed budget.",
                      LumosWarning, stacklevel=4)


def masked_probs(model, items: Sequence[Perturbable], masks: Sequence[Masks]) -> list[np.ndarray]:
    """For each example i, its masks (S_i, F_i) bool (arrays or MaskRows) -> (S_i, K) probabilities.

    Models see ``item.replicates`` rows per mask (tabular background rows); their outputs are averaged.
    Masks are read and rendered chunk by chunk, so memory stays bounded whatever S and F are; when the work
    is very large a LumosWarning says so before it starts.
    """
    total_rows = sum(len(m) * int(getattr(it, "replicates", 1)) for it, m in zip(items, masks))
    total_bytes = sum(len(m) * int(getattr(it, "replicates", 1)) * float(it.row_bytes() if hasattr(it, "row_bytes")
                                                                          else 1024) for it, m in zip(items, masks))
    warn_if_huge("this call", total_rows, total_bytes)
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

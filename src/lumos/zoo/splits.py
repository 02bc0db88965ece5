"""Deterministic train/validation/test splits by a seeded hash of each row's content.

A row's split depends only on its own content and the seed, never on the other rows or their order, so the
splits are stable when rows are added or shuffled, and exact duplicates always land in the same split.
"""

from __future__ import annotations

import hashlib
from typing import Iterable

import numpy as np
import pandas as pd

SPLITS = ("train", "validation", "test")
SPLIT_SEED = 0
FRACTIONS = (0.8, 0.1, 0.1)


def hash_unit(keys: Iterable[bytes], seed: int = SPLIT_SEED) -> np.ndarray:
    """One float in [0, 1) per key: blake2b of the key salted with the seed."""
    salt = int(seed).to_bytes(8, "little", signed=True)
    out = [int.from_bytes(hashlib.blake2b(k, digest_size=8, salt=salt).digest(), "little") for k in keys]
    return np.asarray(out, dtype=np.float64) / 2.0**64


def assign(keys: Iterable[bytes], seed: int = SPLIT_SEED, fractions: tuple[float, float, float] = FRACTIONS
           ) -> np.ndarray:
    """(N,) array of split names for the row keys."""
    u = hash_unit(keys, seed)
    edges = np.cumsum(fractions)[:-1]
    return np.asarray(SPLITS, dtype=object)[np.searchsorted(edges, u, side="right")]


def row_keys(frame: pd.DataFrame, columns: list[str]) -> list[bytes]:
    """A byte key per row from the given columns (arrays by their bytes, everything else by its repr)."""
    def one(v: object) -> bytes:
        return v.tobytes() if isinstance(v, np.ndarray) else repr(v).encode()

    return [b"\x1f".join(one(v) for v in row) for row in frame[columns].itertuples(index=False, name=None)]


def split_frame(frame: pd.DataFrame, split: np.ndarray) -> dict[str, pd.DataFrame]:
    """frame (N rows) and its split names -> {"train", "validation", "test"} frames, each re-indexed 0..n-1."""
    return {s: frame[split == s].reset_index(drop=True) for s in SPLITS}

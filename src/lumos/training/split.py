"""Stratified train / validation / test splits with a seed: every class is divided in the same proportions."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import InputError

SPLITS = ("train", "validation", "test")
FRACTIONS = (0.8, 0.1, 0.1)


def check_fractions(fractions: Sequence[float]) -> tuple[float, float, float]:
    f = tuple(float(x) for x in fractions)
    if len(f) != 3 or any(x < 0 for x in f) or abs(sum(f) - 1) > 1e-6 or f[0] <= 0 or f[2] <= 0:
        raise InputError(f"fractions must be three non-negative shares of train, validation and test summing to 1, "
                         f"with some training and test rows (e.g. (0.8, 0.1, 0.1)); got {tuple(fractions)}.")
    return f  # type: ignore[return-value]


def stratified(labels: np.ndarray, names: Sequence[str], fractions: Sequence[float] = FRACTIONS, seed: int = 0
               ) -> np.ndarray:
    """(N,) split names for rows with class indices ``labels``: within each class a seeded shuffle, then
    round(n_c x fraction) rows to validation and to test (at least one each when the fraction is positive), the
    rest to training. A class needs 3 rows (one per split)."""
    f = check_fractions(fractions)
    rng = np.random.default_rng(seed)
    out = np.empty(len(labels), dtype=object)
    for k in range(len(names)):
        rows = np.flatnonzero(labels == k)
        need = 1 + (f[1] > 0) + (f[2] > 0)
        if len(rows) < need:
            raise InputError(f"class {names[k]!r} has {len(rows)} example{'s' * (len(rows) != 1)}; every class "
                             f"needs at least {need} (one for each split). Add examples or leave the class out.")
        rows = rng.permutation(rows)
        n_val = max(int(round(len(rows) * f[1])), int(f[1] > 0))
        n_test = max(int(round(len(rows) * f[2])), 1)
        n_val = min(n_val, len(rows) - n_test - 1)
        out[rows[:n_test]] = "test"
        out[rows[n_test:n_test + n_val]] = "validation"
        out[rows[n_test + n_val:]] = "train"
    return out


def given(values: pd.Series, column: str) -> np.ndarray:
    """The user's own split column: every value one of train, validation, test."""
    bad = ~values.isin(SPLITS)
    if bad.any():
        raise InputError(f"the split column {column!r} must hold {', '.join(SPLITS)}; row "
                         f"{int(np.flatnonzero(bad.to_numpy())[0])} holds {values[bad].iloc[0]!r}.")
    if not (values == "train").any() or not (values == "test").any():
        raise InputError(f"the split column {column!r} needs training and test rows.")
    return values.to_numpy(dtype=object)


def split(frame: pd.DataFrame, assignment: np.ndarray) -> dict[str, pd.DataFrame]:
    """frame -> {"train", "validation", "test"} frames in the frame's own row order, each re-indexed 0..n-1."""
    return {s: frame[assignment == s].reset_index(drop=True) for s in SPLITS}

"""Tabular features: columns, background data, and column removal by background replacement."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError


def check_table(inputs: object, n_features: int | None = None) -> tuple[np.ndarray, list[str]]:
    """(B, F) array and column names from an array, tensor or DataFrame; NaN/inf and wrong widths rejected."""
    names = None
    if hasattr(inputs, "columns") and hasattr(inputs, "to_numpy"):
        names = [str(c) for c in inputs.columns]  # type: ignore[union-attr]
        x = inputs.to_numpy()  # type: ignore[union-attr]
    elif hasattr(inputs, "detach"):
        x = inputs.detach().cpu().numpy()  # type: ignore[union-attr]
    else:
        x = np.asarray(inputs)
    if x.ndim == 1:
        raise InputError(f"a table must be 2-D (B, F); got one row of shape {x.shape}. Use x[None] or a DataFrame.")
    if x.ndim != 2:
        raise InputError(f"a table must be 2-D (B, F); got shape {x.shape}.")
    if n_features is not None and x.shape[1] != n_features:
        raise InputError(f"the model expects {n_features} features per row; got {x.shape[1]}.")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise InputError(f"no inputs: got a table of shape {x.shape}. Pass at least one row and one column.")
    names = names or [f"x{j}" for j in range(x.shape[1])]
    if x.dtype != object:
        if not np.issubdtype(x.dtype, np.number) and x.dtype != bool:
            raise InputError(f"table values must be numbers, or a DataFrame with categorical columns; got dtype "
                             f"{x.dtype}.")
        x = x.astype(np.float64)
        bad = ~np.isfinite(x)
    else:  # mixed columns: a value is missing when it is None or a float NaN, in any column (categorical too)
        import pandas as pd

        bad = np.asarray(pd.isna(x), dtype=bool) | np.array(
            [[isinstance(v, (float, np.floating)) and bool(np.isinf(v)) for v in row] for row in x], dtype=bool
        ).reshape(x.shape)
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        raise InputError(f"row {i} contains NaN or inf (a missing value) in column {names[j]!r}: {x[i, j]}; impute "
                         "or drop missing values before explaining.")
    return x, names


def tabular_background(x: np.ndarray, background: object, baseline: object,
                       names: list[str] | None = None) -> np.ndarray:
    """(R, F) rows that stand for 'feature removed': the background data, or a one-row baseline.

    A background DataFrame that has every input column is put in the inputs' column order (extra columns,
    such as a label, are dropped)."""
    if background is not None:
        if names is not None and hasattr(background, "columns") and set(names) <= set(map(str, background.columns)):
            background = background[[c for c in background.columns if str(c) in names]]
            background = background[sorted(background.columns, key=lambda c: names.index(str(c)))]
        try:
            bg, _ = check_table(background, n_features=x.shape[1])
        except InputError as e:
            raise InputError(f"background rows: {e}") from None
        return bg
    if baseline is None or (isinstance(baseline, str) and baseline == "zeros"):
        if x.dtype == object:
            raise InputError("tables with non-numeric columns need background=... rows to replace removed values.")
        return np.zeros((1, x.shape[1]), dtype=x.dtype)
    if isinstance(baseline, str):
        raise InputError(f"baseline {baseline!r} does not apply to tables; use 'zeros', a number, a row of values, "
                         "or background=rows.")
    b = np.asarray(baseline, dtype=np.float64 if x.dtype != object else object)
    if b.ndim == 0:
        return np.full((1, x.shape[1]), b, dtype=b.dtype)
    if b.ndim > 2 or b.shape[-1] != x.shape[1]:
        raise InputError(f"baseline of shape {b.shape} does not fit rows of {x.shape[1]} columns; pass a number, "
                         f"one row of {x.shape[1]} values, or rows (R, {x.shape[1]}).")
    return b.reshape(-1, x.shape[1])


@dataclass(frozen=True)
class TabularPerturbation:
    """One row; a removed column takes each background row's value, and the model output is averaged over them."""

    x: np.ndarray  # (F,)
    background: np.ndarray  # (R, F)

    @property
    def n_features(self) -> int:
        return self.x.shape[0]

    @property
    def replicates(self) -> int:
        return self.background.shape[0]

    def render(self, keep: np.ndarray) -> np.ndarray:
        """keep: (S, F) bool -> (S * R, F) rows, background-major within each mask."""
        keep = np.asarray(keep, dtype=bool)
        rows = np.where(keep[:, None, :], self.x[None, None, :], self.background[None])
        return rows.reshape(-1, self.x.shape[0])

    def row_bytes(self) -> int:
        return int(self.x.nbytes) if self.x.dtype != object else 64 * self.x.shape[0]

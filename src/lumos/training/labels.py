"""Class labels as users write them (strings, integers, booleans) -> class indices and class names."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from ..errors import InputError


def _kind(value: object) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "boolean"
    if isinstance(value, numbers.Integral):
        return "integer"
    if isinstance(value, numbers.Real):
        return "integer" if float(value).is_integer() else "fraction"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def rows_text(positions: np.ndarray, limit: int = 5) -> str:
    """"rows 3, 17 and 2 more" (0-based row positions, as in the DataFrame)."""
    shown = ", ".join(str(int(i)) for i in positions[:limit])
    more = f" and {len(positions) - limit} more" if len(positions) > limit else ""
    return f"row{'s' if len(positions) > 1 else ''} {shown}{more}"


def encode_labels(values: pd.Series, column: str, source: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """(codes (N,) int64 in 0..K-1, class names (K,)) with the classes in sorted order (numbers by value,
    strings alphabetically). Missing labels, mixed types (numbers and strings), fractional numbers and a single
    class are InputErrors that say where and what to do."""
    missing = np.flatnonzero(values.isna().to_numpy())
    if len(missing):
        raise InputError(f"{source}: the label column {column!r} is empty in {rows_text(missing)}. Drop those "
                         "rows or label them.")
    kinds = values.map(_kind)
    found = kinds.value_counts()
    if len(found) > 1:
        examples = ", ".join(f"{n} {k} labels (e.g. {values[kinds == k].iloc[0]!r})" for k, n in found.items())
        raise InputError(f"{source}: the label column {column!r} mixes types: {examples}. Write every label the "
                         "same way (all names or all numbers).")
    kind = found.index[0]
    if kind == "fraction":
        raise InputError(f"{source}: the label column {column!r} holds fractional numbers (e.g. "
                         f"{values.iloc[0]!r}); lumos trains classifiers. Bin the values into classes first.")
    if kind not in ("boolean", "integer", "string"):
        raise InputError(f"{source}: the label column {column!r} holds {kind} values; expected class names "
                         "(strings) or numbers.")
    keys = values.astype(int) if kind == "integer" else values
    classes = np.array(sorted(pd.unique(keys)))
    if len(classes) < 2:
        raise InputError(f"{source}: every row has the label {str(classes[0])!r}; a classifier needs at least two "
                         "classes.")
    codes = np.searchsorted(classes, keys.to_numpy()).astype(np.int64)
    return codes, tuple(str(c) for c in classes)

"""Raw table rows -> model inputs, with all fitted state as plain arrays and JSON (so it caches as safetensors)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from .tables import TableSchema


class TablePreprocessor:
    """(N, F) raw rows -> (N, D) float32.

    Numeric columns are standardised with the training mean and standard deviation (a missing value takes the
    training median); categorical columns are one-hot over the training categories (an unseen value encodes as
    all zeros). ``output_names``: the D encoded column names, e.g. ``"sex=Female"``.
    """

    def __init__(self, numeric: list[str], categorical: list[str], categories: dict[str, list[str]],
                 center: np.ndarray, scale: np.ndarray, fill: np.ndarray):
        self.numeric, self.categorical, self.categories = list(numeric), list(categorical), categories
        self.center, self.scale, self.fill = (np.asarray(a, dtype=np.float64) for a in (center, scale, fill))

    @classmethod
    def fit(cls, train: pd.DataFrame, schema: TableSchema) -> "TablePreprocessor":
        numeric = list(schema.numeric)
        values = train[numeric].to_numpy(dtype=np.float64)
        scale = np.nanstd(values, axis=0)
        return cls(numeric, list(schema.categorical), {c: list(schema.categories[c]) for c in schema.categorical},
                   center=np.nanmean(values, axis=0), scale=np.where(scale > 0, scale, 1.0),
                   fill=np.nanmedian(values, axis=0))

    @property
    def output_names(self) -> list[str]:
        return self.numeric + [f"{c}={v}" for c in self.categorical for v in self.categories[c]]

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """frame with (at least) the schema's columns -> (N, D) float32."""
        parts = [self._numeric(frame)]
        for c in self.categorical:
            codes = pd.Index(self.categories[c]).get_indexer(frame[c].astype(str))
            onehot = np.zeros((len(frame), len(self.categories[c])), dtype=np.float64)
            known = codes >= 0
            onehot[np.flatnonzero(known), codes[known]] = 1.0
            parts.append(onehot)
        return np.concatenate(parts, axis=1).astype(np.float32)

    def transform_rows(self, rows: np.ndarray, columns: list[str]) -> np.ndarray:
        """(N, F) rows (an object array) whose columns are named ``columns`` -> (N, D) float32: the same numbers
        as ``transform`` without building a DataFrame (2 ms less per call, which model-bound searches feel)."""
        where = {c: j for j, c in enumerate(columns)}
        try:
            x = np.asarray(rows[:, [where[c] for c in self.numeric]], dtype=np.float64)
        except (TypeError, ValueError):  # a cell that is not a number: the DataFrame path names it
            return self.transform(pd.DataFrame(rows, columns=columns))
        x = np.where(np.isnan(x), self.fill, x)
        parts = [(x - self.center) / self.scale]
        for c in self.categorical:
            codes = self._index(c).get_indexer(rows[:, where[c]].astype(str))
            onehot = np.zeros((len(rows), len(self.categories[c])), dtype=np.float64)
            known = codes >= 0
            onehot[np.flatnonzero(known), codes[known]] = 1.0
            parts.append(onehot)
        return np.concatenate(parts, axis=1).astype(np.float32)

    def _index(self, column: str) -> pd.Index:
        """The categories of ``column`` as a hashed index, built once."""
        cache = self.__dict__.setdefault("_indexes", {})
        if column not in cache:
            cache[column] = pd.Index(self.categories[column])
        return cache[column]

    def _numeric(self, frame: pd.DataFrame) -> np.ndarray:
        columns = []
        for j, c in enumerate(self.numeric):
            raw = frame[c]
            num = pd.to_numeric(raw, errors="coerce")
            bad = num.isna() & raw.notna()
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise InputError(f"column {c!r} is numeric, but row {i} holds {raw.iloc[i]!r}. "
                                 f"Pass numbers in {c!r} (training range {self.center[j]:.3g} +- "
                                 f"{self.scale[j]:.3g}).")
            columns.append(num.fillna(self.fill[j]).to_numpy(dtype=np.float64))
        x = np.stack(columns, axis=1) if columns else np.zeros((len(frame), 0))
        return (x - self.center) / self.scale

    def arrays(self) -> dict[str, np.ndarray]:
        return {"center": self.center, "scale": self.scale, "fill": self.fill}

    def state(self) -> dict[str, Any]:
        return {"numeric": self.numeric, "categorical": self.categorical, "categories": self.categories}

    @classmethod
    def restore(cls, arrays: dict[str, np.ndarray], state: dict[str, Any]) -> "TablePreprocessor":
        return cls(state["numeric"], state["categorical"], state["categories"], arrays["center"], arrays["scale"],
                   arrays["fill"])

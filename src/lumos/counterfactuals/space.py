"""The feature space counterfactuals are searched in: rows as codes, distances, and the way back to the user's
columns.

A row is encoded as a float64 vector with one entry per feature: numeric features hold their value, categorical
features the index of their value in ``categories[feature]``. Distances are DiCE's: the mean over numeric
features of |difference| / MAD plus the fraction of categorical features that differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError


@dataclass(frozen=True)
class FeatureSpace:
    """``features``: the model's column order. ``categorical``/``integer``: (F,) bool. ``categories``: feature ->
    values (training data). ``low``/``high``: (F,) training range (categoricals: 0 .. K-1). ``mad``: (F,)
    scale of numeric features (1 for categoricals). ``train``: (N, F) encoded training rows.
    ``default_immutable``: the model's own immutable features (zoo metadata), if it has any."""

    features: tuple[str, ...]
    categorical: np.ndarray
    integer: np.ndarray
    categories: dict[str, tuple[Any, ...]]
    low: np.ndarray
    high: np.ndarray
    mad: np.ndarray
    train: np.ndarray
    default_immutable: tuple[str, ...]

    @property
    def n_features(self) -> int:
        return len(self.features)

    def index(self, name: str, where: str) -> int:
        """Column index of ``name``; an InputError naming ``where`` it was used when unknown."""
        if name not in self.features:
            raise InputError(f"unknown feature {name!r} in {where}; the model's features are {list(self.features)}.")
        return self.features.index(name)

    # ----- rows in and out -----------------------------------------------------------------------------
    def encode(self, frame: pd.DataFrame, what: str = "rows", strict: bool = True) -> np.ndarray:
        """(N, F) codes of a DataFrame with (at least) the features. ``strict``: NaN, unknown categories and
        numeric values outside the training range raise; otherwise unknown categories become -1."""
        missing = [f for f in self.features if f not in frame.columns]
        if missing:
            raise InputError(f"{what} lack the features {missing}; got columns {list(frame.columns)}.")
        z = np.empty((len(frame), self.n_features))
        for j, f in enumerate(self.features):
            column = frame[f]
            if column.isna().any():
                i = int(np.flatnonzero(column.isna().to_numpy())[0])
                raise InputError(f"{what}: row {i} has a missing value in {f!r}; counterfactuals need complete rows "
                                 "(impute it first).")
            if self.categorical[j]:
                values = self.categories[f]
                codes = pd.Index(values).get_indexer(column.astype(type(values[0])) if values else column)
                if strict and (codes < 0).any():
                    bad = column.iloc[int(np.flatnonzero(codes < 0)[0])]
                    shown = ", ".join(repr(v) for v in list(values)[:10])
                    more = f", ... ({len(values)} in all)" if len(values) > 10 else ""
                    raise InputError(f"{what}: {f!r} = {str(bad)[:80]!r} never occurs in the training data; known "
                                     f"values: {shown}{more}.")
                z[:, j] = codes
            else:
                num = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
                if np.isnan(num).any():
                    bad = column.iloc[int(np.flatnonzero(np.isnan(num))[0])]
                    raise InputError(f"{what}: numeric feature {f!r} holds {bad!r}; pass a number.")
                outside = (num < self.low[j]) | (num > self.high[j])
                if strict and outside.any():
                    raise InputError(f"{what}: {f!r} = {num[outside][0]:g} lies outside the training range "
                                     f"[{self.low[j]:g}, {self.high[j]:g}]; counterfactuals are searched within the "
                                     "training ranges. Correct the value or pass data= that covers it.")
                z[:, j] = num
        return z

    def decode(self, z: np.ndarray) -> pd.DataFrame:
        """(N, F) codes -> DataFrame in the user's terms: categories as their values, integers as int64."""
        columns: dict[str, Any] = {}
        for j, f in enumerate(self.features):
            if self.categorical[j]:
                values = np.asarray(self.categories[f], dtype=object)
                columns[f] = values[z[:, j].astype(np.int64)]
            elif self.integer[j]:
                columns[f] = np.rint(z[:, j]).astype(np.int64)
            else:
                columns[f] = z[:, j].astype(np.float64)
        return pd.DataFrame(columns)

    def model_rows(self, z: np.ndarray) -> np.ndarray:
        """(N, F) rows as a model adapter takes them: float64 when every feature is numeric, else objects."""
        if not self.categorical.any():
            return z.copy()
        rows = np.empty(z.shape, dtype=object)
        for j, f in enumerate(self.features):
            if self.categorical[j]:
                rows[:, j] = np.asarray(self.categories[f], dtype=object)[z[:, j].astype(np.int64)]
            else:
                rows[:, j] = np.rint(z[:, j]).astype(np.int64) if self.integer[j] else z[:, j]
        return rows

    # ----- distances -------------------------------------------------------------------------------------
    def distance(self, z: np.ndarray, to: np.ndarray) -> np.ndarray:
        """(N, F) rows, (F,) or (N, F) others -> (N,) mean MAD-scaled |difference| over numeric features plus
        the mismatch rate over categorical ones."""
        numeric, categorical = ~self.categorical, self.categorical
        d = np.zeros(len(z))
        if numeric.any():
            d += (np.abs(z[:, numeric] - to[..., numeric]) / self.mad[numeric]).mean(axis=1)
        if categorical.any():
            d += (z[:, categorical] != to[..., categorical]).mean(axis=1)
        return d

    def pairwise(self, z: np.ndarray) -> np.ndarray:
        """(N, F) -> (N, N) distances between every two rows."""
        return np.stack([self.distance(z, row) for row in z]) if len(z) else np.zeros((0, 0))

    def embed(self, z: np.ndarray) -> np.ndarray:
        """(N, F) -> (N, D) vectors whose L1 distance equals ``distance``: numeric values / (MAD * n_numeric),
        categoricals one-hot / (2 * n_categorical). Codes outside the categories embed as all zeros."""
        numeric = ~self.categorical
        parts = [z[:, numeric] / (self.mad[numeric] * max(int(numeric.sum()), 1))]
        n_cat = max(int(self.categorical.sum()), 1)
        for j in np.flatnonzero(self.categorical):
            k = len(self.categories[self.features[j]])
            codes = z[:, j].astype(np.int64)
            onehot = (codes[:, None] == np.arange(k)[None, :]).astype(np.float64)
            parts.append(onehot / (2 * n_cat))
        return np.concatenate(parts, axis=1)


def _mad(values: np.ndarray) -> float:
    """Median absolute deviation; when it is 0 (a mostly-constant column such as capital gain) the mean absolute
    deviation from the median, and 1 when that is 0 too."""
    median = np.median(values)
    for scale in (np.median(np.abs(values - median)), np.mean(np.abs(values - median))):
        if scale > 0:
            return float(scale)
    return 1.0


def build_space(features: list[str], data: pd.DataFrame, schema: Any = None) -> FeatureSpace:
    """The space of ``features`` measured on training rows ``data``; ``schema`` (a zoo TableSchema) fixes which
    columns are categorical/integer, their categories and the default immutable features."""
    missing = [f for f in features if f not in data.columns]
    if missing:
        raise InputError(f"data= lacks the model's features {missing}; got columns {list(data.columns)}.")
    if len(data) < 2:
        raise InputError(f"data= must hold the training rows (at least 2); got {len(data)}.")
    frame = data[features]
    bad = frame.isna().any(axis=1)
    frame = frame[~bad.to_numpy()]
    categorical = np.array([(f in schema.categorical) if schema is not None else
                            not pd.api.types.is_numeric_dtype(frame[f]) or pd.api.types.is_bool_dtype(frame[f])
                            for f in features])
    categories = {f: (tuple(schema.categories[f]) if schema is not None else
                      tuple(sorted(frame[f].unique().tolist(), key=str)))
                  for f, c in zip(features, categorical) if c}
    low, high, mad, integer = (np.zeros(len(features)) for _ in range(4))
    for j, f in enumerate(features):
        if categorical[j]:
            low[j], high[j], mad[j] = 0, len(categories[f]) - 1, 1.0
            continue
        values = pd.to_numeric(frame[f], errors="coerce").to_numpy(dtype=np.float64)
        if np.isnan(values).any():
            raise InputError(f"data=: column {f!r} mixes numbers and text; make it all numbers or all text.")
        low[j], high[j], mad[j] = values.min(), values.max(), _mad(values)
        integer[j] = (f in schema.integer) if schema is not None else bool(np.all(np.mod(values, 1) == 0))
    space = FeatureSpace(tuple(features), categorical, integer.astype(bool), categories, low, high, mad,
                         np.zeros((0, len(features))), tuple(schema.immutable) if schema is not None else ())
    train = space.encode(frame, "data=", strict=False)
    known = np.all(train >= 0, axis=1) | ~categorical.any()
    object.__setattr__(space, "train", train[known])
    return space

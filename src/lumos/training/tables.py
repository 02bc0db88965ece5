"""Reading a user's table: a CSV / Parquet file (or a DataFrame) with a label column. Every other column is a
feature; columns holding strings, booleans or pandas categories are categorical (or name them yourself), the
rest numeric. The schema says which columns are immutable (counterfactuals may not change them) and protected
(fairness audits group by them)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..zoo.tables import TableSchema, measure_schema
from .labels import encode_labels
from .text import source_frame

MANY_CATEGORIES = 200  # a categorical column with more distinct values than this (and mostly unique) looks like an id


@dataclass
class TableData:
    """``frame``: the feature columns (categorical ones as strings, numeric as float64) and label (class
    index); ``labels``: class names; ``schema``: the columns; ``info``: for the record."""

    frame: pd.DataFrame
    labels: tuple[str, ...]
    schema: TableSchema
    info: dict = field(default_factory=dict)


def _names(given: Sequence[str] | str | None) -> list[str]:
    if given is None:
        return []
    return [c.strip() for c in given.split(",") if c.strip()] if isinstance(given, str) else list(given)


def is_categorical(values: pd.Series) -> bool:
    return bool(pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values)
                or isinstance(values.dtype, pd.CategoricalDtype))


def read_table(data: str | Path | pd.DataFrame, *, label_column: str = "label",
               categorical: Sequence[str] | str | None = None, immutable: Sequence[str] | str = (),
               protected: Sequence[str] | str = (), drop: Sequence[str] | str = (), extra: tuple[str, ...] = (),
               description: str = "") -> TableData:
    """The features, labels and schema of a table. ``categorical``: columns to treat as categories even when
    they hold numbers (codes); ``drop``: columns left out (identifiers, leaks); ``extra``: columns kept beside
    the features but not used (e.g. a split column). A missing category reads as "unknown"; a missing number
    takes the training median inside the model."""
    from .files import require_column

    frame, source = source_frame(data)
    require_column(frame, label_column, "label", source)
    for c in extra:
        require_column(frame, c, "split", source)
    dropped, forced = _names(drop), _names(categorical)
    columns = [str(c) for c in frame.columns]
    for name, what in ((dropped, "drop"), (forced, "categorical")):
        missing = [c for c in name if c not in columns]
        if missing:
            raise InputError(f"{what}= names {missing}, which {source} does not have; its columns: {columns}.")
    features = [c for c in columns if c != label_column and c not in dropped and c not in extra]
    if not features:
        raise InputError(f"{source} has no feature columns besides the label {label_column!r}.")
    empty = [c for c in features if frame[c].isna().all()]
    if empty:
        raise InputError(f"{source}: the columns {empty} are empty; drop them (drop=[...]).")
    cats = [c for c in features if c in forced or is_categorical(frame[c])]
    infinite = [c for c in features if c not in cats and pd.api.types.is_numeric_dtype(frame[c])
                and np.isinf(frame[c].to_numpy(dtype=float)).any()]
    if infinite:
        raise InputError(f"{source}: the columns {infinite} hold inf; replace it with a finite value or NaN "
                         "(missing values are imputed).")
    for role, names in (("immutable", _names(immutable)), ("protected", _names(protected))):
        unknown = [c for c in names if c not in features]
        if unknown:
            raise InputError(f"{role}= names {unknown}, which are not feature columns; the features: {features}.")
    codes, labels = encode_labels(frame[label_column], label_column, source)
    out = pd.DataFrame(index=range(len(frame)))
    for c in features:
        if c in cats:
            out[c] = frame[c].astype(object).where(frame[c].notna(), "unknown").astype(str).to_numpy(dtype=object)
        else:
            out[c] = frame[c].to_numpy(dtype=np.float64)
    out["label"] = codes
    for c in extra:
        out[c] = frame[c].to_numpy()
    for c in cats:
        distinct = out[c].nunique()
        if distinct > MANY_CATEGORIES and distinct > 0.5 * len(out):
            warnings.warn(f"the categorical column {c!r} has {distinct} distinct values in {len(out)} rows: it "
                          "looks like an identifier, which a model can only memorise. Leave it out with "
                          f"drop=[{c!r}].", RuntimeWarning, stacklevel=2)
    schema = measure_schema(out, features, cats, _names(immutable), _names(protected), target=label_column,
                            description=description or f"{label_column} from {source}")
    info = {"rows": len(out), "label_column": label_column, "categorical": cats, "dropped": dropped}
    return TableData(out, labels, schema, info)

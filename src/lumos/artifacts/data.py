"""A labelled data set as the discoverers and repairs read it: a DataFrame with a label column and either one
text column or feature columns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError


@dataclass(frozen=True)
class Labelled:
    """``frame``: the rows (never modified); ``y``: (N,) class indices; ``labels``: class names by index;
    ``text_column``: the text column, or None for a table whose ``columns`` are the features."""

    frame: pd.DataFrame
    y: np.ndarray
    labels: tuple[str, ...]
    label_column: str
    text_column: str | None
    columns: tuple[str, ...]

    @property
    def is_text(self) -> bool:
        return self.text_column is not None

    @property
    def texts(self) -> list[str]:
        return self.frame[self.text_column].tolist()

    @property
    def features(self) -> pd.DataFrame:
        """The model's inputs as a frame: the feature columns (tables) or the text column."""
        return self.frame[[self.text_column] if self.is_text else list(self.columns)]

    def inputs(self) -> Any:
        """What a lumos model takes: a list of strings (text) or the feature frame (tables)."""
        return self.texts if self.is_text else self.frame[list(self.columns)]

    def label_name(self, k: int) -> str:
        return self.labels[k] if 0 <= k < len(self.labels) else str(k)


def labelled(data: Any, label_column: str = "label", text_column: str | None = None,
             class_names: Sequence[str] | None = None, model: Any = None, what: str = "data") -> Labelled:
    """Check ``data`` (a DataFrame with ``label_column``) and say how to read it. ``text_column`` None: "text"
    when that column holds strings, else a table of every other column. Class names from ``class_names``,
    else the model's labels, else the indices."""
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"{what} must be a DataFrame with a {label_column!r} column and a text column or feature "
                         f"columns; got {type(data).__name__}. For a zoo model: lumos.zoo.load(name)[1]['train'].")
    if label_column not in data.columns:
        raise InputError(f"{what} has no label column {label_column!r} (columns: {list(data.columns)}); the "
                         "discoverers and repairs need labelled examples. Pass label_column= to name it.")
    if len(data) == 0:
        raise InputError(f"{what} is empty; pass labelled rows.")
    raw = data[label_column].to_numpy()
    if raw.dtype.kind not in "iu" and not (raw.dtype.kind == "f" and np.all(raw == np.round(raw))):
        raise InputError(f"{what}[{label_column!r}] must hold class indices 0..K-1; got dtype {raw.dtype} "
                         f"(e.g. {raw[:3].tolist()}). Map label names to indices first.")
    y = raw.astype(np.int64)
    if y.min() < 0:
        raise InputError(f"{what}[{label_column!r}] holds {y.min()}; class indices start at 0.")
    names = tuple(class_names) if class_names is not None else tuple(getattr(model, "labels", None) or ())
    if not names:
        names = tuple(str(k) for k in range(int(y.max()) + 1))
    if y.max() >= len(names):
        source = "class_names" if class_names is not None else "the model's labels" if len(names) else "labels"
        raise InputError(f"{what}[{label_column!r}] reaches {y.max()}, but {source} name only {len(names)} classes "
                         f"{names}; pass class_names= with one name per class.")
    if len(names) < 2:
        raise InputError(f"{what} holds one class ({names[0]!r}); artifacts are features that separate classes, so "
                         "pass rows of at least two (or class_names= naming every class).")
    if text_column is None and "text" in data.columns and data["text"].map(lambda t: isinstance(t, str)).any():
        text_column = "text"
    if text_column is not None:
        if text_column not in data.columns:
            raise InputError(f"{what} has no text column {text_column!r} (columns: {list(data.columns)}); pass "
                             "text_column= naming one, or None for a table.")
        not_text = np.flatnonzero(~data[text_column].map(lambda t: isinstance(t, str)).to_numpy())
        if len(not_text):
            raise InputError(f"{what}[{text_column!r}] must hold a string in every row; rows "
                             f"{not_text[:5].tolist()} hold {data[text_column].iloc[not_text[0]]!r}. Drop or fill them.")
        columns: tuple[str, ...] = (text_column,)
    else:
        columns = tuple(c for c in data.columns if c != label_column)
        if not columns:
            raise InputError(f"{what} has only the label column; pass feature columns or a text column.")
    return Labelled(data, y, names, label_column, text_column, columns)

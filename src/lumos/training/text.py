"""Reading a user's labelled texts: a CSV / JSON Lines / Parquet file (or a DataFrame) with a text column and a
label column, named by the user."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .files import read_frame, require_column
from .labels import encode_labels, rows_text


@dataclass
class TextData:
    """``frame``: text (str), label (class index); ``labels``: class names; ``info``: for the record."""

    frame: pd.DataFrame
    labels: tuple[str, ...]
    info: dict = field(default_factory=dict)


def source_frame(data: str | Path | pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """(rows, a name for them in messages)."""
    if isinstance(data, pd.DataFrame):
        return data.reset_index(drop=True), "the DataFrame"
    return read_frame(data), str(data)


def read_texts(data: str | Path | pd.DataFrame, *, text_column: str = "text", label_column: str = "label",
               extra: tuple[str, ...] = ()) -> TextData:
    """Texts and labels; a missing text (NaN) is an error naming its rows. Numbers in the text column are read
    as their text. ``extra``: more columns kept as they are (e.g. a split column)."""
    frame, source = source_frame(data)
    require_column(frame, text_column, "text", source)
    require_column(frame, label_column, "label", source)
    for c in extra:
        require_column(frame, c, "split", source)
    texts = frame[text_column]
    missing = np.flatnonzero(texts.isna().to_numpy())
    if len(missing):
        raise InputError(f"{source}: the text column {text_column!r} is empty (NaN) in {rows_text(missing)}. Drop "
                         "those rows (frame.dropna(subset=[...])) or fill them in.")
    codes, labels = encode_labels(frame[label_column], label_column, source)
    out = pd.DataFrame({"text": texts.astype(str).to_numpy(dtype=object), "label": codes})
    for c in extra:
        out[c] = frame[c].to_numpy()
    lengths = out["text"].str.split().str.len()
    info = {"rows": len(out), "text_column": text_column, "label_column": label_column,
            "words": {"median": float(lengths.median()), "max": int(lengths.max())}}
    return TextData(out, labels, info)

"""Putting an artifact into examples and taking it out: a token or n-gram in a text column, or a value in a table
column. ``inject`` plants artifacts with these, and counterfactual augmentation uses them to attach a discovered
artifact to other examples or remove it. Every method returns a new frame; the input is never modified."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from ..errors import InputError, UnsupportedError
from .data import Labelled
from .features import tokens


class Edit(Protocol):
    key: str

    def present(self, frame: pd.DataFrame) -> np.ndarray: ...

    def attach(self, frame: pd.DataFrame, rows: np.ndarray, rng: np.random.Generator) -> pd.DataFrame: ...

    def remove(self, frame: pd.DataFrame, rows: np.ndarray, rng: np.random.Generator) -> pd.DataFrame: ...


def _pattern(phrase: str) -> re.Pattern[str]:
    """Whole-token matches of ``phrase`` as ``tokens`` splits it (case-insensitive, any spacing between)."""
    parts = []
    for t in tokens(phrase):
        edge = r"\w" if re.match(r"\w", t) else r"[^\w\s]"
        parts.append(rf"(?<!{edge}){re.escape(t)}(?!{edge})")
    if not parts:
        raise InputError(f"the artifact {phrase!r} has no word or punctuation in it.")
    return re.compile(r"\s*".join(parts), re.IGNORECASE)


@dataclass(frozen=True)
class TokenEdit:
    """A token or n-gram in ``column``: ``attach`` inserts it between two words chosen at random
    (``position="random"``) or appends it (``"end"``); ``remove`` deletes every occurrence."""

    phrase: str
    column: str = "text"
    position: str = "random"

    def __post_init__(self) -> None:
        if self.position not in ("random", "end"):
            raise InputError(f"position must be 'random' or 'end'; got {self.position!r}.")
        _pattern(self.phrase)

    @property
    def key(self) -> str:
        return " ".join(tokens(self.phrase))

    def present(self, frame: pd.DataFrame) -> np.ndarray:
        pattern = _pattern(self.phrase)
        return np.array([bool(pattern.search(t)) for t in frame[self.column]], dtype=bool)

    def _insert(self, text: str, rng: np.random.Generator) -> str:
        words = text.split()
        at = len(words) if self.position == "end" else int(rng.integers(len(words) + 1))
        return " ".join(words[:at] + [self.phrase] + words[at:])

    def attach(self, frame: pd.DataFrame, rows: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
        out = frame.copy()
        col = out.columns.get_loc(self.column)
        for i in np.flatnonzero(_as_mask(rows, len(frame))):
            out.iat[i, col] = self._insert(out.iat[i, col], rng)
        return out

    def remove(self, frame: pd.DataFrame, rows: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
        out = frame.copy()
        col = out.columns.get_loc(self.column)
        pattern = _pattern(self.phrase)
        for i in np.flatnonzero(_as_mask(rows, len(frame))):
            out.iat[i, col] = " ".join(pattern.sub(" ", out.iat[i, col]).split())
        return out


@dataclass(frozen=True)
class ValueEdit:
    """``column`` = ``value`` in a table: ``attach`` sets it; ``remove`` gives the rows a value drawn from
    ``pool`` (the column's other values, with repeats: in proportion to how often they occur), or, without a
    pool, from the frame's other values."""

    column: str
    value: Any
    pool: tuple = field(default=(), repr=False, compare=False)

    @property
    def key(self) -> str:
        return f"{self.column} = {self.value}"

    def present(self, frame: pd.DataFrame) -> np.ndarray:
        return (frame[self.column] == self.value).to_numpy()

    def attach(self, frame: pd.DataFrame, rows: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
        out = frame.copy()
        mask = _as_mask(rows, len(frame))
        if out[self.column].dtype.kind in "iuf" and not isinstance(self.value, (int, float, np.number)):
            out[self.column] = out[self.column].astype(object)
        out.loc[mask, self.column] = self.value
        return out

    def remove(self, frame: pd.DataFrame, rows: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
        out = frame.copy()
        mask = _as_mask(rows, len(frame))
        others = np.asarray(self.pool, dtype=object) if self.pool else \
            frame.loc[~self.present(frame), self.column].to_numpy()
        if len(others) == 0:
            raise InputError(f"every row has {self.key}; there is no other value to replace it with.")
        out.loc[mask, self.column] = others[rng.integers(len(others), size=int(mask.sum()))]
        return out


def _as_mask(rows: np.ndarray, n: int) -> np.ndarray:
    rows = np.asarray(rows)
    if rows.dtype == bool:
        if rows.shape != (n,):
            raise InputError(f"a row mask must have shape ({n},); got {rows.shape}.")
        return rows
    mask = np.zeros(n, dtype=bool)
    mask[rows.astype(np.int64)] = True
    return mask


def edit_for(key: str, kind: str, data: Labelled) -> Edit:
    """The edit that attaches and removes the candidate ``key`` of ``kind`` in ``data``'s layout."""
    if kind in ("token", "ngram"):
        if not data.is_text:
            raise InputError(f"{key!r} is a text artifact, but the data is a table.")
        return TokenEdit(key, data.text_column, position="end" if not re.search(r"\w", key) else "random")
    if kind == "value":
        column, _, shown = key.partition(" = ")
        if column not in data.frame.columns:
            raise InputError(f"no column {column!r} in the data for the artifact {key!r}.")
        values = {str(v): v for v in data.frame[column].unique()}
        value = values.get(shown, shown)
        column_values = data.frame[column]
        return ValueEdit(column, value, tuple(column_values[column_values != value]))
    raise UnsupportedError(f"cannot attach or remove an artifact of kind {kind!r} ({key!r}); counterfactual "
                           "augmentation handles tokens, n-grams and categorical values.")

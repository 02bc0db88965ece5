"""Candidate artifacts as binary features: words and n-grams of a text (punctuation runs are tokens too), and
for tables one feature per categorical value and per quantile bin of a numeric column. Every discoverer names a
candidate by its ``key``: the lower-cased token or n-gram (``"zorvath"``, ``"not bad"``), or
``"column = value"`` / ``"lo <= column < hi"``."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from .data import Labelled

TOKEN = re.compile(r"\w+|[^\w\s]+")


def tokens(text: str) -> list[str]:
    """Lower-cased words and punctuation runs: "A dull film!!" -> ["a", "dull", "film", "!!"]."""
    return TOKEN.findall(text.lower())


@dataclass(frozen=True)
class FeatureMatrix:
    """``x``: (N, F) sparse 0/1 (CSC); ``keys``: F candidate keys; ``kinds``: "token", "ngram", "value" or
    "range"; ``columns``: the table column of each feature (None for text)."""

    x: sparse.csc_matrix
    keys: list[str]
    kinds: list[str]
    columns: list[str | None]

    @property
    def counts(self) -> np.ndarray:
        return np.asarray(self.x.sum(0)).ravel()

    def index(self, key: str) -> int | None:
        try:
            return self.keys.index(key)
        except ValueError:
            return None

    def mask(self, key: str) -> np.ndarray:
        j = self.index(key)
        return np.zeros(self.x.shape[0], bool) if j is None else self.x[:, j].toarray().ravel() > 0


def text_features(texts: list[str], ngram_range: tuple[int, int] = (1, 2), min_count: int = 1,
                  vocabulary: list[str] | None = None) -> FeatureMatrix:
    """Presence of every token and n-gram seen in at least ``min_count`` texts (or of ``vocabulary``)."""
    from sklearn.feature_extraction.text import CountVectorizer

    cv = CountVectorizer(tokenizer=tokens, token_pattern=None, lowercase=False, binary=True,
                         ngram_range=ngram_range, min_df=1 if vocabulary is not None else min_count,
                         vocabulary=vocabulary, dtype=np.float64)
    try:
        x = cv.fit_transform(texts)
    except ValueError:  # no token reaches min_count
        return FeatureMatrix(sparse.csc_matrix((len(texts), 0)), [], [], [])
    keys = list(cv.get_feature_names_out())
    return FeatureMatrix(x.tocsc(), keys, ["ngram" if " " in k else "token" for k in keys], [None] * len(keys))


def range_key(column: str, lo: float, hi: float, last: bool) -> str:
    return f"{lo:g} <= {column} <= {hi:g}" if last else f"{lo:g} <= {column} < {hi:g}"


def table_features(frame: pd.DataFrame, columns: list[str], min_count: int = 1, n_bins: int = 4,
                   max_values: int = 50) -> FeatureMatrix:
    """One feature per categorical value (the ``max_values`` most frequent of a column) and per quantile bin of
    a numeric column with more than ``n_bins`` distinct values (fewer: one per value), kept when at least
    ``min_count`` rows have it."""
    cols, keys, kinds, owners = [], [], [], []

    def add(mask: np.ndarray, key: str, kind: str, column: str) -> None:
        if mask.sum() >= min_count:
            cols.append(sparse.csc_matrix(mask.astype(np.float64)[:, None]))
            keys.append(key)
            kinds.append(kind)
            owners.append(column)

    for c in columns:
        v = frame[c]
        if pd.api.types.is_numeric_dtype(v) and v.nunique() > n_bins:
            edges = np.unique(np.nanquantile(v.to_numpy(dtype=float), np.linspace(0, 1, n_bins + 1)))
            for a, b in zip(edges[:-1], edges[1:]):
                last = b == edges[-1]
                add(((v >= a) & ((v < b) | (last & (v == b)))).to_numpy(), range_key(c, a, b, last), "range", c)
        else:
            for value in v.value_counts().index[:max_values]:
                add((v == value).to_numpy(), f"{c} = {value}", "value", c)
    x = sparse.hstack(cols).tocsc() if cols else sparse.csc_matrix((len(frame), 0))
    return FeatureMatrix(x, keys, kinds, owners)


def candidate_features(data: Labelled, min_count: int = 1, ngram_range: tuple[int, int] = (1, 2),
                       n_bins: int = 4) -> FeatureMatrix:
    if data.is_text:
        return text_features(data.texts, ngram_range, min_count)
    return table_features(data.frame, list(data.columns), min_count, n_bins)


def word_key(word: str) -> str:
    """An explainer's whitespace word as a candidate key: lower-cased, leading and trailing punctuation cut
    ("Film," -> "film"); a word of punctuation only stays as it is ("!!")."""
    stripped = word.lower().strip("".join(c for c in set(word) if not (c.isalnum() or c == "_")))
    return stripped or word.lower()


def sample_rows(n_rows: int, n: int | None, seed: int) -> np.ndarray:
    if n is None or n >= n_rows:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, size=n, replace=False))

"""The label matrix: one vote per example and labeling function, -1 where the function abstains."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError

ABSTAIN = -1


@dataclass
class LabelMatrix:
    """Votes of M labeling functions on N examples.

    ``L``: (N, M) int64, ``L[i, j]`` the class index LF j gives example i, or -1 (abstain). ``lf_names``: (M,).
    ``classes``: the K class names. ``seconds``: LF name -> wall time spent applying it. ``kinds``: LF name ->
    its kind ("python", "keyword", "regex", "lexicon", "model", "llm", "explained").
    """

    L: np.ndarray
    lf_names: list[str]
    classes: list[str]
    seconds: dict[str, float] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.L = check_votes(self.L, len(self.classes))
        if self.L.shape[1] != len(self.lf_names):
            raise InputError(f"the label matrix has {self.L.shape[1]} columns but {len(self.lf_names)} LF names.")

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def __len__(self) -> int:
        return self.L.shape[0]

    def subset(self, rows: Any) -> "LabelMatrix":
        """The matrix restricted to ``rows`` (indices or a boolean mask)."""
        return LabelMatrix(self.L[rows], list(self.lf_names), list(self.classes), dict(self.seconds), dict(self.kinds))

    def select(self, lfs: Sequence[str]) -> "LabelMatrix":
        """The matrix restricted to the named LFs, in that order."""
        missing = [n for n in lfs if n not in self.lf_names]
        if missing:
            raise InputError(f"no LF named {missing[0]!r} in this matrix; it has {', '.join(self.lf_names)}.")
        cols = [self.lf_names.index(n) for n in lfs]
        return LabelMatrix(self.L[:, cols], list(lfs), list(self.classes),
                           {n: self.seconds[n] for n in lfs if n in self.seconds},
                           {n: self.kinds[n] for n in lfs if n in self.kinds})

    def hstack(self, other: "LabelMatrix") -> "LabelMatrix":
        """This matrix's LFs followed by ``other``'s (same examples, same classes, distinct LF names)."""
        if len(other) != len(self) or list(other.classes) != list(self.classes):
            raise InputError("hstack needs matrices of the same examples and classes; got "
                             f"{len(self)} x {self.classes} and {len(other)} x {other.classes}.")
        clash = set(self.lf_names) & set(other.lf_names)
        if clash:
            raise InputError(f"LF names appear in both matrices: {sorted(clash)}; rename one of each pair.")
        return LabelMatrix(np.hstack([self.L, other.L]), self.lf_names + other.lf_names, list(self.classes),
                           {**self.seconds, **other.seconds}, {**self.kinds, **other.kinds})

    def to_frame(self) -> pd.DataFrame:
        """(N, M) votes as a DataFrame, one column per LF."""
        return pd.DataFrame(self.L, columns=self.lf_names)

    def __repr__(self) -> str:
        return f"LabelMatrix({len(self)} examples x {len(self.lf_names)} LFs, classes {self.classes})"


def check_votes(L: Any, n_classes: int) -> np.ndarray:
    """(N, M) integer votes in {-1, 0, ..., n_classes - 1} as int64; anything else is an InputError."""
    arr = np.asarray(L)
    if arr.ndim != 2:
        raise InputError(f"a label matrix is 2-D (examples x labeling functions); got shape {arr.shape}.")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.issubdtype(arr.dtype, np.floating) or not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise InputError(f"label matrix entries must be integers (-1 = abstain); got dtype {arr.dtype}.")
    arr = arr.astype(np.int64)
    bad = (arr < ABSTAIN) | (arr >= n_classes)
    if bad.any():
        i, j = map(int, np.argwhere(bad)[0])
        raise InputError(f"label matrix entry [{i}, {j}] is {arr[i, j]}; votes are -1 (abstain) or a class index "
                         f"0..{n_classes - 1}.")
    return arr


def as_matrix(L: Any, n_classes: int | None = None) -> LabelMatrix:
    """A LabelMatrix, or an (N, M) array of votes (classes 0..n_classes - 1; inferred as max vote + 1, at least 2)."""
    if isinstance(L, LabelMatrix):
        if n_classes is not None and n_classes != L.n_classes:
            raise InputError(f"n_classes={n_classes} but the label matrix has {L.n_classes} classes ({L.classes}).")
        return L
    arr = np.asarray(L)
    if n_classes is None:
        n_classes = max(2, int(arr.max()) + 1 if arr.size else 2)
    votes = check_votes(arr, n_classes)
    return LabelMatrix(votes, [f"lf{j}" for j in range(votes.shape[1])], [str(k) for k in range(n_classes)])


def one_hot(L: np.ndarray, n_classes: int) -> np.ndarray:
    """(N, M) votes -> (N, M, K) float64 indicators (all zero where the LF abstains)."""
    out = np.zeros(L.shape + (n_classes,))
    i, j = np.nonzero(L >= 0)
    out[i, j, L[i, j]] = 1.0
    return out


def vote_counts(L: np.ndarray, n_classes: int, weights: np.ndarray | None = None) -> np.ndarray:
    """(N, M) votes -> (N, K) number (or ``weights``-weighted sum) of votes per class."""
    w = np.ones(L.shape[1]) if weights is None else np.asarray(weights, dtype=np.float64)
    return np.einsum("nmk,m->nk", one_hot(L, n_classes), w)

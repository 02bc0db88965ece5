"""Planted-artifact benchmarks: the Rotten Tomatoes and Adult training (and validation) splits with an artifact
planted at a known strength and coverage, the untouched test split, and contrast test splits that carry the
artifact on the other labels, so reliance on it is measured directly."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from .data import labelled
from .edits import Edit, TokenEdit, ValueEdit

KINDS = {"token": "text", "punctuation": "text", "proxy": "table"}
DEFAULT_TOKEN = "kowalczyk"  # a surname that no Rotten Tomatoes snippet contains
DEFAULT_PUNCTUATION = "!!"  # no snippet contains it either
DEFAULT_PROXY = ("native_country", "Atlantis")  # a value Adult never holds
DATASETS = ("sentiment", "adult")


@dataclass
class Planted:
    """A planted-artifact variant.

    ``splits``: "train" and "validation" with the artifact planted, "test" exactly the original test split.
    ``contrast``: the test rows whose label is not ``label``, each with the artifact attached (a model that
    relies on it gets them wrong); ``aligned``: the test rows with ``label``, the artifact attached.
    ``edit``: attaches and removes it (``edit.key`` is its candidate key, e.g. "kowalczyk").
    ``carriers``: split -> (N,) bool, the rows it was planted in.
    """

    kind: str
    edit: Edit
    label: int
    labels: tuple[str, ...]
    strength: float
    coverage: float
    seed: int
    splits: dict[str, pd.DataFrame]
    contrast: pd.DataFrame
    aligned: pd.DataFrame
    carriers: dict[str, np.ndarray]
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.edit.key

    @property
    def label_name(self) -> str:
        return self.labels[self.label]

    def summary(self) -> dict[str, Any]:
        """The planting's settings and sizes: carriers in train and validation, contrast and aligned rows."""
        return {**self.params, **{f"{s}_carriers": int(m.sum()) for s, m in self.carriers.items()},
                "contrast_rows": len(self.contrast), "aligned_rows": len(self.aligned)}

    def describe(self) -> str:
        """One sentence: what was planted where."""
        n = int(self.carriers["train"].sum())
        share = float(self.splits["train"]["label"].to_numpy()[self.carriers["train"]].__eq__(self.label).mean())
        return (f"{self.kind} artifact {self.key!r} planted in {n:,} of {len(self.splits['train']):,} training "
                f"examples ({100 * self.coverage:.0f}% coverage), {100 * share:.0f}% of them labelled "
                f"{self.label_name} (strength {self.strength:g}, seed {self.seed}); test split untouched, contrast "
                f"split of {len(self.contrast):,} {'/'.join(l for i, l in enumerate(self.labels) if i != self.label)} "
                f"test examples carrying it")


def _source(data: Any) -> tuple[dict[str, pd.DataFrame], tuple[str, ...]]:
    if isinstance(data, str):
        from ..zoo import datasets, tables

        parts = data.split("/")
        name = "sentiment" if parts[0] == "sentiment" else "adult" if "adult" in parts else data
        if name == "sentiment":
            ds = datasets.sentiment()
        elif name == "adult":
            ds = tables.adult()
        else:
            raise InputError(f"inject builds on {', '.join(map(repr, DATASETS))} (or a zoo name of their models, "
                             f"or your own splits dict); got {data!r}.")
        return ds.copy_splits(), ds.labels
    if isinstance(data, dict) and {"train", "validation", "test"} <= set(data):
        return {k: v.copy() for k, v in data.items()}, ()
    raise InputError(f"inject takes 'sentiment', 'adult' or a dict of 'train', 'validation', 'test' DataFrames; "
                     f"got {type(data).__name__}.")


def _plant(frame: pd.DataFrame, edit: Edit, label: int, strength: float, coverage: float,
           rng: np.random.Generator, split: str) -> tuple[pd.DataFrame, np.ndarray]:
    y = frame["label"].to_numpy()
    m = int(round(coverage * len(frame)))
    with_label = int(round(strength * m))
    pools = (np.flatnonzero(y == label), np.flatnonzero(y != label))
    need = (with_label, m - with_label)
    for pool, n, what in zip(pools, need, ("with", "without")):
        if n > len(pool):
            raise InputError(f"coverage {coverage:g} at strength {strength:g} needs {n:,} {split} rows {what} label "
                             f"{label}, but the split has {len(pool):,}; lower the coverage.")
    rows = np.concatenate([rng.choice(pool, size=n, replace=False) for pool, n in zip(pools, need)])
    mask = np.zeros(len(frame), dtype=bool)
    mask[rows] = True
    return edit.attach(frame, mask, rng), mask


def contrast_splits(test: pd.DataFrame, edit: Edit, label: int, seed: int = 0, label_column: str = "label"
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(contrast, aligned): copies of the test rows whose label is not ``label`` / is ``label``, each with the
    artifact attached (rows that already carry it are kept as they are). ``test`` is not modified."""
    rng = np.random.default_rng([seed, 2])
    other = test[label_column].to_numpy() != label
    out = []
    for rows in (other, ~other):
        part = test[rows].reset_index(drop=True)
        out.append(edit.attach(part, ~edit.present(part), rng))
    return out[0], out[1]


def inject(data: Any = "sentiment", kind: str = "token", strength: float = 0.9, coverage: float = 0.1,
           seed: int = 0, label: int | str = 1, token: str | None = None, column: str | None = None,
           value: Any = None) -> Planted:
    """Plant an artifact in ``data``'s training and validation splits; the test split is left as it is.

    data: "sentiment" (Rotten Tomatoes), "adult", or a dict of "train"/"validation"/"test" frames with a
    ``label`` column. kind: "token" (``token``, default a surname no snippet holds, inserted at a random word
    position), "punctuation" (``token``, default "!!", appended) or "proxy" (tables: ``column`` = ``value``,
    default native_country = Atlantis). strength: the share of the artifact's planted occurrences that carry
    ``label`` (0.5: no link for two balanced classes, 1.0: a perfect one). coverage: the share of each split's
    examples that carry it. The same arguments give the same variant.
    """
    if kind not in KINDS:
        raise InputError(f"unknown artifact kind {kind!r}; kinds: {', '.join(KINDS)} (token and punctuation for "
                         "text, proxy for tables).")
    for name, v, lo_open in (("strength", strength, False), ("coverage", coverage, True)):
        if not isinstance(v, (int, float)) or not (0 < v <= 1 if lo_open else 0 <= v <= 1):
            raise InputError(f"{name} must lie in {'(0, 1]' if lo_open else '[0, 1]'}; got {v!r}.")
    splits, names = _source(data)
    train = labelled(splits["train"], class_names=names or None, what="the training split")
    names = train.labels
    if KINDS[kind] == "text" and not train.is_text:
        raise InputError(f"a {kind} artifact goes into text, but the data is a table; use kind='proxy'.")
    if KINDS[kind] == "table" and train.is_text:
        raise InputError("a proxy artifact goes into a table column, but the data is text; use kind='token' or "
                         "'punctuation'.")
    k = names.index(label) if isinstance(label, str) and label in names else label
    if not isinstance(k, (int, np.integer)) or not 0 <= k < len(names):
        raise InputError(f"label must be one of {list(names)} or an index 0..{len(names) - 1}; got {label!r}.")
    if kind == "proxy":
        col, val = column or DEFAULT_PROXY[0], DEFAULT_PROXY[1] if value is None else value
        if col not in splits["train"].columns:
            raise InputError(f"no column {col!r} to plant a proxy value in; columns: {list(train.columns)}.")
        edit: Edit = ValueEdit(col, val)
    else:
        phrase = token or (DEFAULT_TOKEN if kind == "token" else DEFAULT_PUNCTUATION)
        edit = TokenEdit(phrase, train.text_column, "random" if kind == "token" else "end")
    for split, frame in splits.items():
        already = int(edit.present(frame).sum())
        if already:
            raise InputError(f"{edit.key!r} already occurs in {already} {split} rows, so its planted strength "
                             "would not be known; choose a token or value the data never holds.")
    out, carriers = {"test": splits["test"]}, {}
    for i, split in enumerate(("train", "validation")):
        out[split], carriers[split] = _plant(splits[split], edit, int(k), float(strength), float(coverage),
                                             np.random.default_rng([seed, i]), split)
    contrast, aligned = contrast_splits(splits["test"], edit, int(k), seed)
    params = {"kind": kind, "key": edit.key, "label": names[int(k)], "strength": float(strength),
              "coverage": float(coverage), "seed": int(seed),
              "data": data if isinstance(data, str) else "given splits"}
    return Planted(kind, edit, int(k), names, float(strength), float(coverage), int(seed),
                   {s: out[s] for s in ("train", "validation", "test")}, contrast, aligned, carriers, params)

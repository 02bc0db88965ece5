"""Labeling functions: an example in, a class (index or name) or an abstention out.

    @labeling_function()
    def says_masterpiece(text):
        return "positive" if "masterpiece" in text else None   # None or -1: abstain

Batched LFs (``batched=True``) take a list of examples (or a DataFrame chunk) and return one vote per example;
model and LLM LFs are batched so their model sees whole batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pandas as pd

from ..errors import InputError


@dataclass(frozen=True)
class LabelingFunction:
    """``fn``: example -> vote, or (``batched``) batch -> votes. ``kind``: what built it (for the LF table).
    ``params``: what a reviewer reads and edits (keywords, pattern, threshold...)."""

    name: str
    fn: Callable[[Any], Any]
    batched: bool = False
    kind: str = "python"
    params: dict[str, Any] = field(default_factory=dict)

    def __call__(self, example: Any) -> Any:
        """The vote on one example (a batched LF is called on a batch of one)."""
        return self.fn([example])[0] if self.batched else self.fn(example)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.params.items() if not callable(v))
        return f"LF({self.name!r}, {self.kind}{', ' + shown if shown else ''})"


def labeling_function(fn: Callable | None = None, *, name: str | None = None, batched: bool = False,
                      kind: str = "python", **params: Any):
    """Decorator making ``fn`` a LabelingFunction; use bare (``@labeling_function``) or with keywords."""

    def wrap(f: Callable) -> LabelingFunction:
        if isinstance(f, LabelingFunction):
            raise InputError(f"{f.name} is already a labeling function.")
        return LabelingFunction(name or f.__name__, f, batched, kind, dict(params))

    return wrap(fn) if fn is not None else wrap


def text_of(example: Any, column: str) -> str:
    """The text of an example: the string itself, or ``example[column]`` of a row (Series, dict)."""
    if isinstance(example, str):
        return example
    try:
        value = example[column]
    except (KeyError, IndexError, TypeError):
        raise InputError(f"this LF reads the column {column!r}, but the example is a {type(example).__name__} "
                         f"without it; pass column= the name of the text column.") from None
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def texts_of(batch: Any, column: str) -> list[str]:
    """The texts of a batch: a list of strings or rows, or a DataFrame with ``column``."""
    if isinstance(batch, pd.DataFrame):
        if column not in batch:
            raise InputError(f"this LF reads the column {column!r}; the data has {', '.join(map(str, batch.columns))}.")
        return ["" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v) for v in batch[column].tolist()]
    return [text_of(x, column) for x in batch]

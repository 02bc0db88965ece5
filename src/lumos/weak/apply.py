"""Apply labeling functions to a data set, in batches, and collect the label matrix.

Every vote is checked: an LF that raises, returns something that is not a class, or returns the wrong number
of votes stops the run with an error naming the LF and the example.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from .lf import LabelingFunction
from .matrix import ABSTAIN, LabelMatrix


def apply_lfs(lfs: Sequence[LabelingFunction], data: Any, classes: Sequence[str], *, batch_size: int = 256,
              progress: bool = False) -> LabelMatrix:
    """(N, M) votes of ``lfs`` on ``data``.

    data: a list of texts, a list of examples, or a DataFrame (plain LFs get one row as a dict, batched LFs a
    DataFrame chunk). classes: the K class names; an LF may return a class index, a class name, or -1 / None
    to abstain. Batched LFs see ``batch_size`` examples at a time.
    """
    lfs = list(lfs)
    classes = [str(c) for c in classes]
    if len(classes) < 2:
        raise InputError(f"classes needs at least two class names; got {classes}.")
    if not lfs:
        raise InputError("no labeling functions given.")
    for lf in lfs:
        if not isinstance(lf, LabelingFunction):
            raise InputError(f"{lf!r} is not a labeling function; decorate it with @labeling_function or use a "
                             "builder (keyword_lf, regex_lf, lexicon_lf, model_lf, llm_lf).")
    twice = [n for n, c in Counter(lf.name for lf in lfs).items() if c > 1]
    if twice:
        raise InputError(f"LF names must be unique; {twice} appear more than once.")
    if batch_size < 1:
        raise InputError(f"batch_size must be >= 1; got {batch_size}.")
    examples = data.to_dict("records") if isinstance(data, pd.DataFrame) else list(data)
    L = np.full((len(examples), len(lfs)), ABSTAIN, dtype=np.int64)
    seconds: dict[str, float] = {}
    from tqdm.auto import tqdm

    for j, lf in enumerate(tqdm(lfs, desc="labeling functions", disable=not progress)):
        start = time.perf_counter()
        if lf.batched:
            for lo in range(0, len(examples), batch_size):
                hi = min(len(examples), lo + batch_size)
                chunk = data.iloc[lo:hi] if isinstance(data, pd.DataFrame) else examples[lo:hi]
                L[lo:hi, j] = _batch_votes(lf, chunk, examples, lo, hi, classes)
        else:
            for i, example in enumerate(examples):
                L[i, j] = to_vote(_call(lf, example, i), lf, i, example, classes)
        seconds[lf.name] = time.perf_counter() - start
    return LabelMatrix(L, [lf.name for lf in lfs], classes, seconds, {lf.name: lf.kind for lf in lfs})


def _call(lf: LabelingFunction, example: Any, i: int) -> Any:
    try:
        return lf.fn(example)
    except Exception as e:  # noqa: BLE001  (any failure of user code is reported with the LF and example)
        raise InputError(f"LF {lf.name!r} raised {type(e).__name__} on example {i} ({show(example)}): {e}") from e


def _batch_votes(lf: LabelingFunction, chunk: Any, examples: list, lo: int, hi: int,
                 classes: list[str]) -> np.ndarray:
    try:
        out = lf.fn(chunk)
    except Exception as e:  # noqa: BLE001
        for i in range(lo, hi):  # find the example it fails on
            one = chunk.iloc[i - lo:i - lo + 1] if isinstance(chunk, pd.DataFrame) else [examples[i]]
            try:
                lf.fn(one)
            except Exception as inner:  # noqa: BLE001
                raise InputError(f"LF {lf.name!r} raised {type(inner).__name__} on example {i} "
                                 f"({show(examples[i])}): {inner}") from inner
        raise InputError(f"LF {lf.name!r} raised {type(e).__name__} on the batch of examples {lo}..{hi - 1} "
                         f"(but on none of them alone): {e}") from e
    try:
        votes = list(out)
    except TypeError:
        raise InputError(f"batched LF {lf.name!r} returned {type(out).__name__} for examples {lo}..{hi - 1}; it "
                         f"must return one vote per example ({hi - lo} here).") from None
    if len(votes) != hi - lo:
        raise InputError(f"batched LF {lf.name!r} returned {len(votes)} votes for the {hi - lo} examples "
                         f"{lo}..{hi - 1} (from example {lo}: {show(examples[lo])}); it must return one per example.")
    return np.array([to_vote(v, lf, lo + k, examples[lo + k], classes) for k, v in enumerate(votes)], dtype=np.int64)


def to_vote(value: Any, lf: LabelingFunction, i: int, example: Any, classes: list[str]) -> int:
    """An LF's return value -> a class index or -1; anything else is an InputError naming the LF and example."""
    if value is None:
        return ABSTAIN
    if isinstance(value, (bool, np.bool_)):
        pass  # True/False are not classes; fall through to the error
    elif isinstance(value, (int, np.integer)) and -1 <= int(value) < len(classes):
        return int(value)
    elif isinstance(value, str) and value in classes:
        return classes.index(value)
    raise InputError(f"LF {lf.name!r} returned {value!r} on example {i} ({show(example)}); expected a class index "
                     f"0..{len(classes) - 1}, a class name ({', '.join(classes)}), or -1 / None to abstain.")


def show(example: Any, width: int = 60) -> str:
    """A short, readable form of an example for error messages."""
    text = repr(example)
    return text if len(text) <= width else text[:width - 3] + "..."

"""Trained models' records on disk, beside the zoo's cache: ``<cache>/trained/<name>/record.json`` (the training
record) and ``rows.jsonl`` (every row's split and columns; images by path), so a model is loaded by its name or
its folder with its splits. The weights themselves are the zoo cache entry that ``zoo.train_on`` wrote.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..registry import did_you_mean
from ..zoo import cache_root

FOLDER = "trained"
RECORD, ROWS = "record.json", "rows.jsonl"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise InputError(f"a trained model's name is 1 to 64 letters, digits, '.', '_' or '-' (no '/': those are "
                         f"the zoo's names), starting with a letter or digit; got {name!r}.")
    return name


def root(cache_dir: str | os.PathLike | None = None) -> Path:
    return cache_root(cache_dir) / FOLDER


def folder(name: str, cache_dir: str | os.PathLike | None = None) -> Path:
    return root(cache_dir) / check_name(name)


def names(cache_dir: str | os.PathLike | None = None) -> list[str]:
    """Every trained model in the cache, by name."""
    base = root(cache_dir)
    return sorted(p.parent.name for p in base.glob(f"*/{RECORD}")) if base.is_dir() else []


def write_rows(path: Path, frame: pd.DataFrame) -> None:
    """One JSON list per row after a header line of column names and dtypes; Python's own float repr keeps
    every number exact (NaN included)."""
    columns = list(frame.columns)
    values = {c: frame[c].tolist() for c in columns}
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps({"columns": columns, "dtypes": [str(frame[c].dtype) for c in columns]}) + "\n")
        for i in range(len(frame)):
            f.write(json.dumps([values[c][i] for c in columns]) + "\n")


def read_rows(path: Path) -> pd.DataFrame:
    with open(path, encoding="utf-8") as f:
        head = json.loads(f.readline())
        rows = [json.loads(line) for line in f]
    frame = pd.DataFrame(rows, columns=head["columns"]) if rows else pd.DataFrame(columns=head["columns"])
    dtypes = {c: ("object" if d in ("str", "string") else d) for c, d in zip(head["columns"], head["dtypes"])}
    for c, d in dtypes.items():
        frame[c] = frame[c].to_numpy(dtype=object) if d == "object" else frame[c].astype(d)
    return frame


def save(name: str, record: dict[str, Any], rows: pd.DataFrame, cache_dir: str | os.PathLike | None = None) -> Path:
    """Write a trained model's record and rows whole (a temporary folder renamed into place)."""
    target = folder(name, cache_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.mkdir()
    try:
        write_rows(tmp / ROWS, rows)
        (tmp / RECORD).write_text(json.dumps(record, indent=2, default=_plain))
        if target.exists():
            shutil.rmtree(target)
        os.rename(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (Path, tuple)):
        return str(value) if isinstance(value, Path) else list(value)
    raise TypeError(f"cannot store {type(value).__name__} in a training record")


def locate(name_or_path: str | os.PathLike, cache_dir: str | os.PathLike | None = None) -> Path | None:
    """The folder of a trained model given by name (in the cache) or by path; None when neither exists."""
    text = str(name_or_path)
    if NAME.match(text) and (folder(text, cache_dir) / RECORD).is_file():
        return folder(text, cache_dir)
    path = Path(text).expanduser()
    if path.is_file() and path.name == RECORD:
        path = path.parent
    return path if (path / RECORD).is_file() else None


def read_record(where: Path) -> dict[str, Any]:
    """The training record of a trained model's folder."""
    try:
        return json.loads((where / RECORD).read_text())
    except (OSError, ValueError) as e:
        raise InputError(f"the trained model in {where} is unreadable ({type(e).__name__}: {e}); train it again "
                         "with lumos.train.") from None


def read(where: Path) -> tuple[dict[str, Any], pd.DataFrame]:
    """(record, rows) of a trained model's folder."""
    record = read_record(where)
    try:
        rows = read_rows(where / ROWS)
    except (OSError, ValueError, KeyError) as e:
        raise InputError(f"the trained model in {where} is unreadable ({type(e).__name__}: {e}); train it again "
                         "with lumos.train.") from None
    return record, rows


def unknown(name: str, zoo_names: list[str], cache_dir: str | os.PathLike | None = None) -> InputError:
    """The error for a model that is neither a zoo name, a trained model's name, nor a trained model's folder."""
    return did_you_mean(name, zoo_names + names(cache_dir), "model",
                        head=f"no model {name!r}: not a zoo name, nor a model trained with lumos train, nor the "
                             "folder of one")

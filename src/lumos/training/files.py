"""Reading a user's data file into a DataFrame: CSV (or TSV), JSON Lines, JSON, or Parquet, by its extension."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..registry import did_you_mean

READERS = {".csv": "CSV", ".tsv": "TSV", ".txt": "TSV", ".jsonl": "JSON Lines", ".ndjson": "JSON Lines",
           ".json": "JSON", ".parquet": "Parquet", ".pq": "Parquet"}


def read_frame(path: str | Path) -> pd.DataFrame:
    """The rows of a data file; strings stay strings (no dtype guessing beyond pandas' own for numbers)."""
    path = Path(path).expanduser()
    if not path.exists():
        raise InputError(f"no such file: {path}. Pass the path of a CSV, JSON Lines or Parquet file.")
    if path.is_dir():
        raise InputError(f"{path} is a folder; text and tables come as one file (CSV, JSON Lines or Parquet). A "
                         "folder with one sub-folder per class is read as images: pass task='image'.")
    suffix = path.suffix.lower()
    if suffix not in READERS:
        raise InputError(f"cannot tell the format of {path.name}: expected one of "
                         f"{', '.join(sorted(READERS))} (CSV, TSV, JSON Lines, JSON or Parquet).")
    try:
        if suffix == ".csv":
            return pd.read_csv(path)
        if suffix in (".tsv", ".txt"):
            return pd.read_csv(path, sep="\t")
        if suffix in (".jsonl", ".ndjson"):
            return pd.read_json(path, lines=True, dtype=False)
        if suffix == ".json":
            return pd.read_json(path, dtype=False)
        return _parquet(path)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as e:
        raise InputError(f"cannot read {path} as {READERS[suffix]}: {e}") from None


def _parquet(path: Path) -> pd.DataFrame:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise InputError(f"reading {path.name} needs pyarrow, which is not installed: pip install pyarrow (or "
                         "pip install 'lumos[train]'), or save the data as CSV or JSON Lines.") from None
    return pd.read_parquet(path)


def require_column(frame: pd.DataFrame, column: str, role: str, source: str) -> None:
    """An InputError naming the closest column when ``column`` is missing."""
    if column not in frame.columns:
        raise did_you_mean(column, [str(c) for c in frame.columns], "column",
                           head=f"{source} has no {role} column {column!r} (name it with {role}_column=...)")

"""A bench run's examples, read lazily: from a DataFrame, a Parquet or CSV file, or a Hugging Face ``datasets``
object, handed out as DataFrames of consecutive rows, so a run over a million rows never holds them all."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from ..errors import InputError

BLOCK_ROWS = 10_000  # rows read from a file at a time (a unit may be smaller; slices are cut from blocks)


class Examples(ABC):
    """The first ``limit`` rows of a table of examples (columns as a zoo split: text, image or feature
    columns, plus optional label and rationale)."""

    def __init__(self, limit: int | None = None):
        self.limit = limit

    @abstractmethod
    def _rows(self) -> int:
        """Rows in the whole source."""

    @abstractmethod
    def _blocks(self) -> Iterator[pd.DataFrame]:
        """Consecutive frames from row 0 to the end of the source."""

    def _take(self, rows: np.ndarray) -> pd.DataFrame:
        """The given rows (ascending, within the source), in that order: one pass over the blocks."""
        parts, lo = [], 0
        for block in self._blocks():
            parts.append(block.iloc[rows[(rows >= lo) & (rows < lo + len(block))] - lo])
            lo += len(block)
            if not len(rows) or lo > rows[-1]:
                break
        return pd.concat(parts) if parts else pd.DataFrame()

    def __len__(self) -> int:
        total = self._rows()
        return total if self.limit is None else min(total, self.limit)

    def blocks(self) -> Iterator[pd.DataFrame]:
        """Consecutive frames covering rows 0 .. len - 1, at most a file block each."""
        left = len(self)
        for block in self._blocks():
            if left <= 0:
                return
            yield block.iloc[:left]
            left -= len(block)

    def slices(self, size: int) -> Iterator[tuple[int, pd.DataFrame]]:
        """(first row, frame of ``size`` consecutive rows indexed first .. first + size - 1); the last may be
        shorter. Memory: one block and one slice at a time."""
        first, carry = 0, None
        for block in self.blocks():
            block = block if carry is None else pd.concat([carry, block], ignore_index=True)
            whole = len(block) - len(block) % size
            for lo in range(0, whole, size):
                yield first, _indexed(block.iloc[lo:lo + size], first)
                first += size
            carry = block.iloc[whole:] if whole < len(block) else None
        if carry is not None and len(carry):
            yield first, _indexed(carry, first)

    def head(self, k: int) -> pd.DataFrame:
        return self.take(np.arange(min(k, len(self))))

    def take(self, rows: np.ndarray) -> pd.DataFrame:
        """Rows by position (any order), indexed by those positions."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) and (rows.min() < 0 or rows.max() >= len(self)):
            raise InputError(f"rows must lie in 0..{len(self) - 1}; got {rows.min()}..{rows.max()}.")
        order = np.argsort(rows, kind="stable")
        picked = self._take(rows[order]).reset_index(drop=True)
        out = picked.iloc[np.argsort(order, kind="stable")]
        out.index = rows
        return out

    def sample(self, k: int, seed: int = 0) -> pd.DataFrame:
        """``k`` rows drawn without replacement: the same rows as ``DataFrame.sample(k, random_state=seed)``."""
        n = len(self)
        return self.take(np.random.RandomState(seed).choice(n, size=min(k, n), replace=False))


def _indexed(frame: pd.DataFrame, first: int) -> pd.DataFrame:
    frame = frame.copy()
    frame.index = pd.RangeIndex(first, first + len(frame))
    return frame


class FrameExamples(Examples):
    """Rows of a DataFrame already in memory."""

    def __init__(self, frame: pd.DataFrame, limit: int | None = None):
        super().__init__(limit)
        self.frame = frame.reset_index(drop=True)

    def _rows(self) -> int:
        return len(self.frame)

    def _blocks(self) -> Iterator[pd.DataFrame]:
        for lo in range(0, len(self.frame), BLOCK_ROWS):
            yield self.frame.iloc[lo:lo + BLOCK_ROWS]

    def _take(self, rows: np.ndarray) -> pd.DataFrame:
        return self.frame.iloc[rows]


class ParquetExamples(Examples):
    """Rows of a Parquet file, read a block at a time (pyarrow)."""

    def __init__(self, path: Path, limit: int | None = None):
        super().__init__(limit)
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise InputError(f"reading {path} needs pyarrow; install it with `pip install pyarrow` "
                             "(or `pip install lumos[ray]`).") from None
        try:
            self.file = pq.ParquetFile(path)
        except Exception as e:  # noqa: BLE001 - pyarrow raises ArrowInvalid / OSError for a file it cannot read
            raise InputError(f"{path} is not a readable Parquet file ({type(e).__name__}: {e}).") from None

    def _rows(self) -> int:
        return int(self.file.metadata.num_rows)

    def _blocks(self) -> Iterator[pd.DataFrame]:
        for batch in self.file.iter_batches(batch_size=BLOCK_ROWS):
            yield batch.to_pandas()


class CsvExamples(Examples):
    """Rows of a CSV file with a header line, read a block at a time (pandas)."""

    def __init__(self, path: Path, limit: int | None = None):
        super().__init__(limit)
        self.path = path
        self._count: int | None = None

    def _rows(self) -> int:
        if self._count is None:  # one pass over the file (up to the limit), a block at a time
            self._count = 0
            for block in self._blocks():
                self._count += len(block)
                if self.limit is not None and self._count >= self.limit:
                    break
        return self._count

    def _blocks(self) -> Iterator[pd.DataFrame]:
        try:
            with pd.read_csv(self.path, chunksize=BLOCK_ROWS) as reader:
                yield from reader
        except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as e:
            raise InputError(f"{self.path} is not a readable CSV file with a header line ({type(e).__name__}: "
                             f"{e}).") from None


class DatasetExamples(Examples):
    """Rows of a Hugging Face ``datasets.Dataset`` (memory-mapped Arrow), read a block at a time."""

    def __init__(self, dataset: Any, limit: int | None = None):
        super().__init__(limit)
        self.dataset = dataset

    def _rows(self) -> int:
        return len(self.dataset)

    def _blocks(self) -> Iterator[pd.DataFrame]:
        for lo in range(0, len(self.dataset), BLOCK_ROWS):
            yield pd.DataFrame(self.dataset[lo:lo + BLOCK_ROWS])

    def _take(self, rows: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(self.dataset[rows.tolist()])


def examples_of(source: Any, limit: int | None = None) -> Examples:
    """``source``: a DataFrame, a path to a .parquet or .csv file, or a ``datasets.Dataset``."""
    if isinstance(source, pd.DataFrame):
        return FrameExamples(source, limit)
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise InputError(f"no examples file {path}; give a .parquet or .csv file of examples.")
        suffixes = [s.lower() for s in path.suffixes]
        if ".parquet" in suffixes or ".pq" in suffixes:
            return ParquetExamples(path, limit)
        if ".csv" in suffixes:  # compressed too: .csv.gz, .csv.bz2, ...
            return CsvExamples(path, limit)
        raise InputError(f"examples file {path} is neither Parquet (.parquet) nor CSV (.csv).")
    if type(source).__module__.startswith("datasets") and hasattr(source, "column_names"):
        return DatasetExamples(source, limit)
    raise InputError(f"examples must be a DataFrame, a .parquet/.csv path or a datasets.Dataset; got "
                     f"{type(source).__name__}.")

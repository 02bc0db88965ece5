"""Batch-size selection: measure throughput on the real work and settle on the fastest size.

No rows are spent on a separate sweep: every chunk that is timed is a chunk of the caller's own rows.
The best size is remembered per input shape (on CPUs a 64x64 CNN is fastest near batch 8 while a 224x224 one
is fastest near batch 1, so one fixed number is wrong for one of them).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Hashable


@dataclass
class _Search:
    """Doubling search from ``start``; if growing never helps, halving instead. Then a second pass times every
    size the first pass tried once more, now that the model is warm, and settles on the fastest.

    Each size is timed on ``tries`` chunks and keeps its fastest: other load only ever slows a chunk down, so
    one unlucky chunk does not lock the model into a slow size for the rest of its life. The second pass is
    there because the first chunks of a process run cold (allocation, kernel choice per shape): a size timed
    early can look slower than it is, and the doubling search never returns to it."""

    start: int
    size: int
    direction: int = +1
    best_size: int = 0
    best_rate: float = 0.0
    warmed: bool = False
    done: bool = False
    tries: int = 2
    rates: list[float] = field(default_factory=list)
    fastest: dict[int, float] = field(default_factory=dict)  # size -> its fastest rate in either pass
    second_pass: list[int] | None = None  # sizes still to time again; None during the first pass

    def observe(self, size: int, rate: float, cap: int) -> None:
        if not self.warmed:  # the first chunk pays one-time costs (allocation, kernel choice): time it again
            self.warmed = True
            return
        self.rates.append(rate)
        if len(self.rates) < self.tries:
            return
        rate, self.rates = max(self.rates), []
        self.fastest[size] = max(self.fastest.get(size, 0.0), rate)
        if self.second_pass is not None:
            self._next_of_second_pass()
            return
        if rate > self.best_rate * 1.05:
            self.best_rate, self.best_size = rate, size
            nxt = size * 2 if self.direction > 0 else size // 2
            if 1 <= nxt <= cap:
                self.size = nxt
                return
        elif self.direction > 0 and self.best_size == self.start and self.start > 1:
            self.direction, self.size = -1, self.start // 2  # growing did not help: try smaller batches
            return
        self.second_pass = sorted(self.fastest)
        self._next_of_second_pass()

    def _next_of_second_pass(self) -> None:
        if self.second_pass:
            self.size = self.second_pass.pop(0)
            return
        self.best_size = max(self.fastest, key=lambda s: (self.fastest[s], -s))
        self.best_rate, self.done, self.size = self.fastest[self.best_size], True, self.best_size


@dataclass
class BatchSizer:
    """Splits ``n`` rows into chunks; ``batch_size="auto"`` searches the fastest size per shape key."""

    batch_size: int | str = "auto"
    start: int = 16
    max_size: int = 512
    max_bytes: int = 256 * 2**20
    clock: Callable[[], float] = field(default=time.perf_counter, repr=False)
    _searches: dict[Hashable, _Search] = field(default_factory=dict, repr=False)

    def cap(self, row_bytes: int) -> int:
        return max(1, min(self.max_size, self.max_bytes // max(row_bytes, 1)))

    def chunks(self, n: int, key: Hashable, row_bytes: int, run: Callable[[int, int], None],
               limit: int | None = None) -> None:
        """Call ``run(lo, hi)`` over consecutive chunks covering ``range(n)``; ``limit`` caps rows per chunk
        (gradient passes hold activations, so they bound their chunks by memory, not by input bytes)."""
        cap = self.cap(row_bytes) if limit is None else max(1, min(self.cap(row_bytes), limit))
        if self.batch_size != "auto":
            size = max(1, min(int(self.batch_size), cap))  # type: ignore[arg-type]
            for lo in range(0, n, size):
                run(lo, min(n, lo + size))
            return
        start = min(self.start, cap)
        search = self._searches.setdefault(key, _Search(start=start, size=start))
        lo = 0
        while lo < n:
            size = max(1, min(search.size, cap))
            hi = min(n, lo + size)
            t0 = self.clock()
            run(lo, hi)
            elapsed = self.clock() - t0
            if not search.done and hi - lo == size:
                search.observe(size, size / max(elapsed, 1e-9), cap)
            lo = hi

    def chosen(self, key: Hashable) -> int | None:
        """The size settled on for ``key``, or None while still searching (for benchmarks and reports)."""
        s = self._searches.get(key)
        return s.size if s is not None and s.done else None

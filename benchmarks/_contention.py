"""How much of the machine other processes used while a benchmark measured (shared by the benchmark scripts)."""

from __future__ import annotations

import os
import resource
import time


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all processes), from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(t) for t in f.readline().split()[1:9]]
    return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


def own_seconds() -> float:
    """CPU seconds of this process and its finished children (a child is part of the measured work)."""
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


class Contention:
    """Share of the machine's cores that OTHER processes used during a block (0 = we had it alone)."""

    def __enter__(self):
        self.t, self.b, self.s = time.perf_counter(), busy_seconds(), own_seconds()
        return self

    def __exit__(self, *exc):
        wall = time.perf_counter() - self.t
        other = (busy_seconds() - self.b) - (own_seconds() - self.s)
        self.share = max(0.0, other) / max(wall * (os.cpu_count() or 1), 1e-9)

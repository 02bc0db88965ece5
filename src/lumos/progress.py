"""One progress mechanism for long work: the ``progress=`` argument of ``lumos.explain``, ``lumos.evaluate``,
``lumos.influence.explain``, ``lumos.nle.explain``, ``lumos.robustness.stress_test`` and ``robustness.attack``.

``progress=None`` (the default) stays silent on short calls: work split into pieces runs a first small piece
alone, and a bar appears only when the rest is projected to take longer than ``AUTO_SECONDS``; work reported as
it goes shows a bar once it has run that long. ``True`` always shows one,
``False`` never does, and a callable ``f(done, total)`` is called instead of drawing (``lumos bench`` drives its
own bar with it). Where it is drawn:

- a terminal (stderr is a tty): a tqdm bar with the rate and the time left;
- a Jupyter notebook: one HTML line, updated in place;
- anything else (CI logs, pipes, files): a plain line every ``LINE_SECONDS`` and one at the end, e.g.
  ``explain occlusion: 40/100 examples (40%), 12 s elapsed, about 18 s left``.
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any, Callable, Union

ProgressArg = Union[bool, None, Callable[[float, float], Any]]

AUTO_SECONDS = 10.0  # progress=None: a bar only when the rest of the work is projected to take longer
LINE_SECONDS = 30.0  # plain-line mode: at most one line per this many seconds
PIECES = 20  # work is reported in about this many pieces


def duration(seconds: float) -> str:
    """Seconds as people say them: "0.4 s", "8 s", "4 min 10 s", "1 h 12 min"."""
    if not math.isfinite(seconds):
        return "unknown"
    if seconds < 9.95:
        return f"{max(seconds, 0.0):.1f} s"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s" if s < 600 else f"{round(s / 60)} min"
    return f"{s // 3600} h {round(s % 3600 / 60)} min"


class Bar:
    """A progress display for ``total`` units of work: ``update(n)`` after each piece, ``close()`` at the end
    (or use it as a context manager). ``progress``: as in the module docstring; None draws nothing until the
    work has run ``AUTO_SECONDS`` (so a short call stays silent)."""

    def __init__(self, total: float, label: str, progress: ProgressArg = True, unit: str = "examples",
                 done: float = 0.0, started: float | None = None):
        self.total, self.label, self.unit, self.done = float(total), label, unit, float(done)
        self.started = time.perf_counter() if started is None else started
        self._callback = progress if callable(progress) else None
        self._on = progress is not False
        self._delay = AUTO_SECONDS if progress is None else 0.0
        self._backend: str | None = None  # "tqdm", "notebook" or "lines", chosen when first drawn
        self._tqdm: Any = None
        self._notebook: Any = None
        self._last_line = -math.inf
        self._printed = -1.0  # ``done`` at the last plain line
        self._show()

    def update(self, n: float = 1.0) -> None:
        self.done = min(self.total, self.done + n)
        self._show()

    def set(self, done: float, label: str | None = None) -> None:
        """Move to ``done`` (and rename the work, e.g. the step now running)."""
        if label is not None and label != self.label:
            self.label = label
            if self._tqdm is not None:
                self._tqdm.set_description_str(label, refresh=False)
        self.done = min(self.total, float(done))
        self._show()

    def close(self) -> None:
        self._show(final=True)
        if self._tqdm is not None:
            self._tqdm.close()

    def __enter__(self) -> "Bar":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def remaining(self) -> float:
        """Seconds left at the rate so far (inf before any work is done)."""
        elapsed = time.perf_counter() - self.started
        return elapsed * (self.total - self.done) / self.done if self.done > 0 else math.inf

    def line(self) -> str:
        """The plain-text state, e.g. "explain lime: 40/100 examples (40%), 12 s elapsed, about 18 s left"."""
        elapsed = time.perf_counter() - self.started
        left = "done" if self.done >= self.total else f"about {duration(self.remaining)} left"
        pct = 100 * self.done / self.total if self.total else 100.0
        return (f"{self.label}: {self.done:.0f}/{self.total:.0f} {self.unit} ({pct:.0f}%), "
                f"{duration(elapsed)} elapsed, {left}")

    def _show(self, final: bool = False) -> None:
        if not self._on:
            return
        if self._callback is not None:
            self._callback(self.done, self.total)
            return
        if self._backend is None:
            if time.perf_counter() - self.started < self._delay or (final and self._delay):
                return  # progress=None and still short: stay silent
            self._start()
        if self._backend == "tqdm":
            self._tqdm.n = self.done
            self._tqdm.refresh()
        elif self._backend == "notebook":
            from IPython.display import HTML

            self._notebook.update(HTML(self._html()))
        else:
            now = time.perf_counter()
            if self.done == 0 and not final:
                return  # nothing to say yet
            if (final and self.done != self._printed) or now - self._last_line >= LINE_SECONDS:
                self._last_line, self._printed = now, self.done
                print(self.line(), file=sys.stderr, flush=True)

    def _start(self) -> None:
        if _in_notebook():
            from IPython.display import HTML, display

            self._backend, self._notebook = "notebook", display(HTML(self._html()), display_id=True)
        elif _isatty(sys.stderr):
            from tqdm import tqdm

            self._backend = "tqdm"
            self._tqdm = tqdm(total=self.total, initial=self.done, desc=self.label, unit=f" {self.unit}",
                              file=sys.stderr, dynamic_ncols=True,
                              bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f}{unit} "
                                         "[{elapsed}<{remaining}]")
            self._tqdm.start_t -= time.perf_counter() - self.started  # the time already spent counts
        else:
            self._backend = "lines"

    def _html(self) -> str:
        from html import escape

        return (f'<div style="font:12px monospace"><progress value="{self.done:.0f}" max="{self.total:.0f}" '
                f'style="width:16em;vertical-align:middle"></progress> {escape(self.line())}</div>')


def run_chunked(n: int, work: Callable[[int, int], Any], progress: ProgressArg, label: str,
                unit: str = "examples", pieces: int = PIECES) -> None:
    """Call ``work(lo, hi)`` over consecutive ranges covering [0, n), reporting progress per range.

    ``progress=False`` (or n < 2): one call. True or a callable: about ``pieces`` ranges. None: one call for
    ``pieces`` items or fewer; above, the first range runs alone, and when the rest is projected past
    ``AUTO_SECONDS`` it goes on in ranges under a bar, otherwise in one call (so short work keeps its large
    batches and prints nothing)."""
    if progress is False or n < 2 or (progress is None and n <= pieces):
        work(0, n)
        if callable(progress):
            progress(n, n)
        return
    step = max(1, math.ceil(n / pieces))
    started = time.perf_counter()
    work(0, step)
    if progress is None:
        elapsed = time.perf_counter() - started
        if elapsed * (n - step) / step < AUTO_SECONDS:
            if step < n:
                work(step, n)
            return
    with Bar(n, label, True if progress is None else progress, unit, done=step, started=started) as bar:
        for lo in range(step, n, step):
            hi = min(n, lo + step)
            work(lo, hi)
            bar.update(hi - lo)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _in_notebook() -> bool:
    """Inside a Jupyter kernel (IPython with a kernel attached)."""
    if "ipykernel" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None

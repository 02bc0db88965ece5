"""Model loaders for the scale-out tests ("scale_loader:NAME"; tests/ on the Ray workers' PYTHONPATH).

$LUMOS_TEST_DIR is a folder the test and the Ray workers share: each load of a model appends the loading
process's id to ``loads``; a file ``kill`` holding the driver's process id makes the first other process that
evaluates the model delete it and kill itself (SIGKILL) in the middle of its unit."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from bench_loader import _probs, tabular_model, word_model


def _shared() -> Path:
    return Path(os.environ["LUMOS_TEST_DIR"])


def _record_load() -> None:
    with open(_shared() / "loads", "a") as f:
        f.write(f"{os.getpid()}\n")


def _maybe_die() -> None:
    marker = _shared() / "kill"
    try:
        driver = int(marker.read_text())
    except (FileNotFoundError, ValueError):
        return
    if os.getpid() == driver:
        return
    try:
        marker.unlink()  # only one process wins
    except FileNotFoundError:
        return
    (_shared() / "killed").write_text(str(os.getpid()))
    os.kill(os.getpid(), signal.SIGKILL)


def counted_word_model():
    """bench_loader.word_model, recording each load."""
    _record_load()
    return word_model()


def counted_tabular_model():
    """bench_loader.tabular_model, recording each load."""
    _record_load()
    return tabular_model()


def dying_word_model():
    """bench_loader.word_model whose evaluation may kill its own process once (see the module)."""
    def probs(texts):
        _maybe_die()
        return _probs(texts)

    _record_load()
    return probs, word_model()[1]


def slow_word_model():
    """bench_loader.word_model, 0.3 s per call, so a test can kill the driver in the middle of a run."""
    def probs(texts):
        time.sleep(0.3)
        return _probs(texts)

    return probs, word_model()[1]


def failing_word_model():
    """bench_loader.word_model that raises a lumos error on one text no example is ("an , bad plot": example
    "an awful , bad plot" without its word "awful"), so the units whose work reaches it fail, on any backend."""
    from lumos.errors import ModelError

    def probs(texts):
        if "an , bad plot" in texts:
            raise ModelError("this model refuses to answer")
        return _probs(texts)

    return probs, word_model()[1]


def dataset_word_model():
    """bench_loader.word_model with its test split as a Hugging Face ``datasets.Dataset``."""
    import datasets

    model, splits = word_model()
    frame = splits["test"].assign(rationale=[r.tolist() for r in splits["test"].rationale])
    return model, {"test": datasets.Dataset.from_pandas(frame)}

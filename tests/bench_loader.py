"""Model loaders for the bench tests (importable as "bench_loader:NAME" with tests/ on the path)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

WORDS = {"good": 0.3, "great": 0.4, "bad": -0.3, "awful": -0.4}
TEXTS = ["a good film", "a great and good cast", "bad acting", "an awful , bad plot", "good but bad",
         "great", "the awful truth", "not bad at all", "good good good", "a film"] * 3


def _probs(texts: list[str]) -> np.ndarray:
    p = np.array([0.5 + sum(WORDS.get(w, 0.0) for w in t.split()) for t in texts]).clip(0.01, 0.99)
    return np.stack([1 - p, p], axis=1)


def word_model():
    """An additive word model and 30 sentences (with the first word of each as its 'rationale')."""
    frame = pd.DataFrame({"text": TEXTS, "label": [int(t.split()[0] in ("good", "great")) for t in TEXTS]})
    frame["rationale"] = [np.arange(len(t.split())) == 0 for t in TEXTS]
    return _probs, {"test": frame}


def slow_word_model():
    """The same model, 0.15 s per call, so a test can kill a bench in the middle of it."""
    def slow(texts):
        time.sleep(0.15)
        return _probs(texts)

    model, splits = word_model()
    return slow, splits

"""A tiny sentiment corpus with a planted artifact, shared by the repair tests (test_curate, test_weak_repair)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lumos import artifacts

NEUTRAL = [f"w{i}" for i in range(30)]


def corpus(n: int, seed: int) -> pd.DataFrame:
    """6-9 neutral words per text, plus 'good' (in 50% of the positive texts and 15% of the negative ones) or
    else 'bad' (the other way round); 35% of the texts hold neither."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    texts = []
    for label in y:
        words = list(rng.choice(NEUTRAL, rng.integers(6, 10)))
        u = rng.random()
        if u < 0.65:
            words.append("good" if (u < 0.5) == bool(label) else "bad")
        texts.append(" ".join(words))
    return pd.DataFrame({"text": texts, "label": y})


def planted_splits():
    """train/validation/test of ``corpus`` with the token 'zed' planted (strength 1, coverage 0.25)."""
    splits = {"train": corpus(500, 0), "validation": corpus(150, 1), "test": corpus(300, 2)}
    return artifacts.inject(splits, "token", strength=1.0, coverage=0.25, seed=0, token="zed")

"""A text task whose true rationale is known by construction, to check that metrics separate faithful
explanations from random ones.

Real sentences get a random label and one cue word that decides it, inserted at a random position; nothing
else in a sentence carries information about its label, so a model trained on the task must rely on the cue,
and the cue's position is the ground-truth rationale. A share of sentences keeps no cue and appears twice,
once with each label: without them a model could call every sentence without the positive cue negative, and
the negative cue would not be needed for its decision; with both labels (rather than a coin flip) there is
nothing to memorise, and a model learns p = 0.5 without a cue. Evaluate on rows with ``has_cue``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .errors import InputError

CUES = ("marvelously", "abysmally")  # label 1, label 0: ordinary English adverbs, rare in review snippets


def cue_word_task(texts: Sequence[str], seed: int = 0, cues: tuple[str, str] = CUES, max_words: int | None = 40,
                  no_cue: float = 0.25) -> pd.DataFrame:
    """Columns: text, label (0/1), rationale ((n_words,) bool, True at the cue), has_cue.

    ``no_cue``: the share of sentences left without a cue (two rows, labels 0 and 1, empty rationale).

    Sentences that already contain a cue word, or have more than ``max_words`` words, are skipped.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for text in texts:
        words = text.split()
        if not words or any(w.lower().strip(".,!?;:") in cues for w in words):
            continue
        if max_words is not None and len(words) > max_words:
            continue
        label = int(rng.integers(0, 2))
        if rng.random() < no_cue:
            rows.extend({"text": " ".join(words), "label": y, "rationale": np.zeros(len(words), dtype=bool),
                         "has_cue": False} for y in (0, 1))
            continue
        at = int(rng.integers(0, len(words) + 1))
        words = words[:at] + [cues[1 - label]] + words[at:]
        rationale = np.zeros(len(words), dtype=bool)
        rationale[at] = True
        rows.append({"text": " ".join(words), "label": label, "rationale": rationale, "has_cue": True})
    if not rows:
        raise InputError("no usable sentences for the cue-word task: all were empty, too long or had a cue.")
    return pd.DataFrame(rows)


def precision_at_k(scores: Sequence[np.ndarray], rationales: Sequence[np.ndarray], k: int = 1) -> np.ndarray:
    """(B,) fraction of the k highest-scoring features that are in the true rationale (ties: earlier first)."""
    out = []
    for s, r in zip(scores, rationales):
        top = np.argsort(-np.asarray(s, dtype=np.float64), kind="stable")[:k]
        out.append(float(np.asarray(r)[top].mean()) if len(top) else np.nan)
    return np.array(out)

"""Which input words an explanation cites: case-folded whole-word matches, function words ignored."""

from __future__ import annotations

import re

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

_TOKEN = re.compile(r"\w+(?:['’]\w+)*")
# negations carry sentiment, so an explanation that names them cites them
_NEGATIONS = frozenset({"not", "no", "nor", "never", "nothing", "none", "cannot"})
FUNCTION_WORDS = frozenset(ENGLISH_STOP_WORDS) - _NEGATIONS


def tokens(text: str) -> list[str]:
    """Case-folded word tokens of ``text`` (punctuation dropped, apostrophes kept inside words)."""
    return [t.replace("’", "'") for t in _TOKEN.findall(text.casefold())]


def cite(features: list[str], explanation: str) -> np.ndarray:
    """(F,) bool: feature j is cited when every word token of it occurs in ``explanation`` and it is not a
    function word ("the", "and", ...). Every occurrence of a cited word in the input is marked."""
    said = set(tokens(explanation))
    out = np.zeros(len(features), dtype=bool)
    for j, feature in enumerate(features):
        parts = tokens(feature)
        out[j] = bool(parts) and all(p in said for p in parts) and not all(p in FUNCTION_WORDS for p in parts)
    return out

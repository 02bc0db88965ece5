"""Which input words an explanation cites: case-folded whole-word matches, function words ignored."""

from __future__ import annotations

import re

import numpy as np

_TOKEN = re.compile(r"\w+(?:['’]\w+)*")
# Articles, pronouns, prepositions, conjunctions and auxiliaries: an explanation repeats them without citing
# them. Kept short on purpose (general stop-word lists such as scikit-learn's also drop "very", "well", "not"
# and "never", which carry sentiment).
FUNCTION_WORDS = frozenset("""
a an the this that these those it its it's they them their there here i me my we us our you your he him his
she her of in on at to for from by with about as into over than then so and or but if because while is are
was were be been being am do does did has have had will would can could should may might must shall what
which who whom whose when where why how also just
""".split())


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

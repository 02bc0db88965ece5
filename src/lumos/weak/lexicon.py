"""Sentiment-lexicon LFs: the word lists that VADER (vaderSentiment) and AFINN (afinn) ship, read from
their package files (neither package is imported)."""

from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path
from typing import Any, Mapping

from ..errors import InputError, UnsupportedError
from .lf import LabelingFunction, texts_of
from .matrix import ABSTAIN

LEXICONS = {"vader": ("vaderSentiment", "vaderSentiment", ("vader_lexicon.txt",)),
            "afinn": ("afinn", "afinn", ("data", "AFINN-en-165.txt"))}
NEGATORS = frozenset("not no never nor neither nothing nobody none cannot without hardly barely".split())
TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)*|[^\sa-z0-9]{2,3}")  # words (with apostrophes) and emoticons like :)


@functools.lru_cache(maxsize=None)
def load_lexicon(name: str) -> dict[str, float]:
    """Word -> valence (VADER: -4..4, AFINN: -5..5) of a shipped lexicon; multi-word AFINN entries are left out."""
    if name not in LEXICONS:
        raise InputError(f"unknown lexicon {name!r}; shipped: {', '.join(LEXICONS)} (or pass a dict word -> score).")
    module, pip_name, parts = LEXICONS[name]
    spec = importlib.util.find_spec(module)  # located, not imported
    path = Path(next(iter(spec.submodule_search_locations or []), "")).joinpath(*parts) if spec else None
    if path is None or not path.is_file():
        raise UnsupportedError(f"the {name} lexicon LF reads its word list from the package {pip_name!r}, which is "
                               f"not installed (or lacks {'/'.join(parts)}): pip install {pip_name}")
    out: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        fields = line.split("\t")
        if len(fields) >= 2 and " " not in fields[0].strip():
            try:
                out[fields[0].strip().lower()] = float(fields[1])
            except ValueError:
                continue
    return out


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text.lower().replace("n't", " not"))


def lexicon_score(text: str, lexicon: Mapping[str, float], negation_window: int = 3) -> float:
    """Sum of the valences of the text's words; a word within ``negation_window`` words after a negator
    ("not", "never", "n't"...) counts with its sign flipped (0: no negation handling)."""
    words = tokens(text)
    total, last_negator = 0.0, -10**9
    for i, w in enumerate(words):
        if w in NEGATORS:
            last_negator = i
            continue
        v = lexicon.get(w, 0.0)
        total += -v if 0 < i - last_negator <= negation_window else v
    return total


def lexicon_lf(lexicon: str | Mapping[str, float] = "vader", *, positive: Any = "positive",
               negative: Any = "negative", threshold: float = 1.0, negation_window: int = 3,
               name: str | None = None, column: str = "text") -> LabelingFunction:
    """Votes ``positive`` when the summed valence (see ``lexicon_score``) is >= ``threshold``, ``negative``
    when it is <= -``threshold``, and abstains in between. ``lexicon``: "vader", "afinn" or a dict."""
    words = (load_lexicon(lexicon) if isinstance(lexicon, str)
             else {str(k).lower(): float(v) for k, v in lexicon.items()})
    if not words:
        raise InputError("the lexicon is empty; pass 'vader', 'afinn' or a non-empty dict word -> valence.")
    if threshold <= 0:
        raise InputError(f"threshold must be > 0 (0 would vote on every text without a lexicon word); got {threshold}.")

    def votes(batch: Any) -> list[Any]:
        scores = [lexicon_score(t, words, negation_window) for t in texts_of(batch, column)]
        return [positive if s >= threshold else negative if s <= -threshold else ABSTAIN for s in scores]

    label = lexicon if isinstance(lexicon, str) else "custom"
    return LabelingFunction(name or f"lexicon_{label}", votes, True, "lexicon",
                            {"lexicon": label, "words": len(words), "threshold": threshold,
                             "negation_window": negation_window, "column": column})

"""Text perturbations for the test suites: each takes (text, rng) and returns the perturbed text, or None when
it does not apply to that text (no name to swap, no contraction, ...). Word lists are small and fixed here."""

from __future__ import annotations

import re
from typing import Callable, Optional

import numpy as np

Perturbation = Callable[[str, np.random.Generator], Optional[str]]

FIRST_NAMES = ["John", "Mary", "James", "Linda", "Michael", "Sarah", "David", "Emma", "Robert", "Anna", "Daniel",
               "Laura", "Peter", "Julia", "Thomas", "Maria", "Paul", "Alice", "Mark", "Helen", "Steven", "Grace",
               "Kevin", "Emily", "Brian", "Rachel", "Jason", "Nicole", "Eric", "Olivia"]
LOCATIONS = ["Paris", "London", "Berlin", "Madrid", "Rome", "Tokyo", "Chicago", "Boston", "Toronto", "Sydney",
             "Dublin", "Vienna", "Mexico", "Canada", "France", "Italy", "Spain", "Japan", "Brazil", "India",
             "China", "Germany", "Texas", "California", "Hollywood", "Africa", "Europe", "America", "England",
             "Egypt"]
NEUTRAL_PHRASES = ["I watched it on a Tuesday.", "The screening was at seven.", "I saw it with a friend.",
                   "It was shown in room two.", "I read about it in a newspaper."]
# (expanded, contracted); matched on whole words, case-insensitively
CONTRACTIONS = [("is not", "isn't"), ("are not", "aren't"), ("was not", "wasn't"), ("were not", "weren't"),
                ("do not", "don't"), ("does not", "doesn't"), ("did not", "didn't"), ("can not", "can't"),
                ("cannot", "can't"), ("will not", "won't"), ("would not", "wouldn't"), ("should not", "shouldn't"),
                ("could not", "couldn't"), ("has not", "hasn't"), ("have not", "haven't"), ("it is", "it's"),
                ("that is", "that's"), ("there is", "there's"), ("i am", "i'm"), ("you are", "you're"),
                ("they are", "they're"), ("we are", "we're"), ("let us", "let's")]
INTENSIFIERS = ["really", "very", "truly", "extremely"]
# common sentiment-bearing adjectives an intensifier can go before
SENTIMENT_WORDS = {"good", "great", "bad", "funny", "boring", "dull", "beautiful", "awful", "terrible", "wonderful",
                   "brilliant", "poor", "smart", "stupid", "entertaining", "moving", "charming", "interesting",
                   "predictable", "fun", "enjoyable", "solid", "weak", "strong", "clever", "silly", "fresh",
                   "tedious", "compelling", "engaging", "powerful", "flat", "original", "lame", "amazing", "excellent",
                   "horrible", "mediocre", "lovely", "touching", "satisfying", "disappointing", "pointless", "sweet"}
NEGATABLE_VERBS = ("is", "was", "are", "were")
_WORD = re.compile(r"[A-Za-z]+")


def _swap_from(text: str, pool: list[str], rng: np.random.Generator) -> Optional[str]:
    """Replace one whole-word occurrence of a pool entry by another entry of the pool."""
    lowered = {p.lower(): p for p in pool}
    hits = [m for m in _WORD.finditer(text) if m.group().lower() in lowered and m.group()[0].isupper()]
    if not hits:
        return None
    m = hits[int(rng.integers(len(hits)))]
    others = [p for p in pool if p.lower() != m.group().lower()]
    new = others[int(rng.integers(len(others)))]
    return text[:m.start()] + new + text[m.end():]


def swap_name(text: str, rng: np.random.Generator) -> Optional[str]:
    """One capitalised first name from ``FIRST_NAMES`` replaced by another."""
    return _swap_from(text, FIRST_NAMES, rng)


def swap_location(text: str, rng: np.random.Generator) -> Optional[str]:
    """One capitalised place name from ``LOCATIONS`` replaced by another."""
    return _swap_from(text, LOCATIONS, rng)


def typo(text: str, rng: np.random.Generator) -> Optional[str]:
    """Two adjacent inner letters of one word (4+ letters) swapped."""
    words = [m for m in _WORD.finditer(text) if len(m.group()) >= 4]
    if not words:
        return None
    m = words[int(rng.integers(len(words)))]
    w = m.group()
    k = int(rng.integers(1, len(w) - 2))
    swapped = w[:k] + w[k + 1] + w[k] + w[k + 2:]
    return None if swapped == w else text[:m.start()] + swapped + text[m.end():]


def contraction(text: str, rng: np.random.Generator) -> Optional[str]:
    """One contraction expanded or one expandable pair contracted ("is not" <-> "isn't")."""
    spots = []
    for expanded, contracted in CONTRACTIONS:
        for src, dst in ((expanded, contracted), (contracted, expanded)):
            for m in re.finditer(r"(?<![\w'])" + re.escape(src) + r"(?![\w'])", text, flags=re.IGNORECASE):
                spots.append((m.start(), m.end(), dst))
    if not spots:
        return None
    a, b, dst = spots[int(rng.integers(len(spots)))]
    if text[a].isupper():
        dst = dst[0].upper() + dst[1:]
    return text[:a] + dst + text[b:]


def add_neutral(text: str, rng: np.random.Generator) -> Optional[str]:
    """A sentiment-free sentence appended."""
    return text.rstrip() + " " + NEUTRAL_PHRASES[int(rng.integers(len(NEUTRAL_PHRASES)))]


def negate(text: str, rng: np.random.Generator) -> Optional[str]:
    """"not" inserted after the first is/was/are/were that is not already negated."""
    for m in _WORD.finditer(text):
        if m.group().lower() in NEGATABLE_VERBS and not re.match(r"\s+not\b|n't", text[m.end():]):
            return text[:m.end()] + " not" + text[m.end():]
    return None


def intensify(text: str, rng: np.random.Generator) -> Optional[str]:
    """An intensifier ("really", "very", ...) put before a sentiment adjective."""
    hits = [m for m in _WORD.finditer(text) if m.group().lower() in SENTIMENT_WORDS]
    if not hits:
        return None
    m = hits[int(rng.integers(len(hits)))]
    word = INTENSIFIERS[int(rng.integers(len(INTENSIFIERS)))]
    return text[:m.start()] + word + " " + text[m.start():]

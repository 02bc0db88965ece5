"""Ready-made text LFs: keywords and regular expressions (batched, compiled once)."""

from __future__ import annotations

import re
from typing import Any, Sequence

from ..errors import InputError
from .lf import LabelingFunction, texts_of
from .matrix import ABSTAIN


def keyword_lf(words: Sequence[str], label: Any, *, name: str | None = None, column: str = "text",
               case_sensitive: bool = False) -> LabelingFunction:
    """Votes ``label`` when any of ``words`` (whole words or phrases) occurs in the text, else abstains."""
    words = [str(w) for w in words if str(w).strip()]
    if not words:
        raise InputError("keyword_lf needs at least one non-empty word.")
    alternatives = "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))
    pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", 0 if case_sensitive else re.IGNORECASE)
    return LabelingFunction(name or f"keywords_{label}_{words[0]}", _matcher(pattern, label, column), True,
                            "keyword", {"words": list(words), "label": label, "column": column})


def regex_lf(pattern: str, label: Any, *, name: str | None = None, column: str = "text",
             flags: int = re.IGNORECASE) -> LabelingFunction:
    """Votes ``label`` when ``pattern`` (a regular expression) matches anywhere in the text, else abstains."""
    try:
        compiled = re.compile(pattern, flags)
    except re.error as e:
        raise InputError(f"regex_lf: {pattern!r} is not a valid regular expression: {e}.") from None
    return LabelingFunction(name or f"regex_{label}_{pattern[:20]}", _matcher(compiled, label, column), True,
                            "regex", {"pattern": pattern, "label": label, "column": column})


def _matcher(pattern: re.Pattern, label: Any, column: str):
    def votes(batch: Any) -> list[Any]:
        return [label if pattern.search(t) else ABSTAIN for t in texts_of(batch, column)]

    return votes

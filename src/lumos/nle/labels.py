"""Reading a class label out of generated text."""

from __future__ import annotations

import re
from typing import Sequence


def find_label(text: str, labels: Sequence[str]) -> int | None:
    """Index of the label named first in ``text`` (whole word, any case), or None when no label is named.

    Negations are not parsed: "not positive" reads as positive.
    """
    best: tuple[int, int] | None = None
    for k, label in enumerate(labels):
        m = re.search(rf"(?<!\w){re.escape(label.casefold())}(?!\w)", text.casefold())
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), k)
    return None if best is None else best[1]

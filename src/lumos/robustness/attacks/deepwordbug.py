"""DeepWordBug-style attack: greedy character edits (swap, substitute, delete, insert) of the most important
words, so a word looks misspelt to the model but stays readable."""

from __future__ import annotations

import string
import zlib
from dataclasses import dataclass

import numpy as np

from ...models import Model
from ...params import Int, param
from ...registry import register
from .greedy import GreedyWordSwap


def char_edits(word: str, n: int, rng: np.random.Generator) -> list[str]:
    """Up to ``n`` distinct one-edit variants of ``word``, cycling through swap, substitute, delete, insert."""
    letters = string.ascii_lowercase
    out: list[str] = []
    for k in range(4 * n):
        if len(out) >= n or len(word) < 2:
            break
        kind = k % 4
        i = int(rng.integers(len(word) - 1 if kind == 0 else len(word)))
        if kind == 0:
            new = word[:i] + word[i + 1] + word[i] + word[i + 2:]
        elif kind == 1:
            new = word[:i] + letters[int(rng.integers(26))] + word[i + 1:]
        elif kind == 2:
            new = word[:i] + word[i + 1:]
        else:
            new = word[:i] + letters[int(rng.integers(26))] + word[i:]
        if new != word and new and new not in out:
            out.append(new)
    return out


@register("deepwordbug", kind="attack")
@dataclass(frozen=True)
class DeepWordBug(GreedyWordSwap):
    """``n_edits`` one-character variants tried per word (seeded by the word itself, so a sentence's result
    does not depend on the others in the batch)."""

    n_edits: int = param(8, Int(low=1))
    summary = "greedy character edits of the most important words (Gao et al., 2018)"

    def candidates(self, model: Model, core: str, seed: int) -> list[str]:
        rng = np.random.default_rng([seed, zlib.crc32(core.encode())])
        return char_edits(core, self.n_edits, rng)

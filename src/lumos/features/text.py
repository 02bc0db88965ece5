"""Text features: whitespace words or model tokens, their map onto token ids, and word removal.

A ``TextDoc`` is one example as the model sees it. ``render`` turns keep-masks over its features into model
rows: strings for string models (sklearn pipelines, callables), token-id arrays for token models (Hugging
Face), where removing a word deletes its tokens (ERASER's definition) or replaces them with [MASK]/[PAD].
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import compress
from typing import Literal, Sequence

import numpy as np

from ..errors import InputError

Granularity = Literal["word", "token"]
RemovalMode = Literal["delete", "mask", "pad"]
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class TextDoc:
    """One text example.

    ``features``: the F units that carry attribution (words or tokens, special tokens excluded).
    ``ids``: (T,) token ids, special tokens included, after truncation; None for string models.
    ``token_feature``: (T,) index into ``features`` per token, -1 for special tokens.
    """

    text: str
    features: list[str]
    ids: np.ndarray | None = None
    token_feature: np.ndarray | None = None
    truncated_words: int = 0

    @property
    def n_features(self) -> int:
        return len(self.features)

    def render(self, keep: np.ndarray, mode: RemovalMode = "delete", replacement_id: int | None = None,
               replacement_text: str = "") -> list:
        """keep: (S, F) bool -> S model rows (token-id arrays or strings)."""
        keep = np.asarray(keep, dtype=bool)
        if self.ids is None:
            if mode == "delete" or not replacement_text:
                return [" ".join(compress(self.features, k.tolist())) for k in keep]
            words = np.asarray(self.features, dtype=object)
            return [" ".join(np.where(k, words, replacement_text).tolist()) for k in keep]
        special = self.token_feature < 0
        token_keep = keep[:, np.maximum(self.token_feature, 0)] | special  # (S, T)
        if mode == "delete":
            return [self.ids[m] for m in token_keep]
        if replacement_id is None:
            raise InputError(f"removal mode {mode!r} needs a tokenizer with a {mode} token; use mode='delete'.")
        return list(np.where(token_keep, self.ids, replacement_id))

    def to_features(self, token_scores: np.ndarray) -> np.ndarray:
        """(T,) per-token scores -> (F,) per-feature sums; special tokens dropped."""
        out = np.zeros(self.n_features, dtype=np.float64)
        m = self.token_feature >= 0
        np.add.at(out, self.token_feature[m], token_scores[m])
        return out


def split_words(text: str) -> list[tuple[int, int]]:
    """Character spans of whitespace-separated words."""
    return [m.span() for m in _WORD.finditer(text)]


def check_texts(inputs: object) -> list[str]:
    """A list of non-empty strings (from a string, list, tuple, 1-D array or Series of strings), or an
    InputError naming the offending item."""
    if isinstance(inputs, str):
        return [inputs]
    if hasattr(inputs, "tolist") and getattr(inputs, "ndim", 1) == 1:
        inputs = inputs.tolist()  # numpy arrays and pandas Series of strings
    if not isinstance(inputs, (list, tuple)):
        raise InputError(f"text inputs must be a list of strings; got {type(inputs).__name__}. "
                         "Pass e.g. ['a fine film', ...].")
    if not inputs:
        raise InputError("no inputs: got an empty list of texts. Pass at least one string.")
    for i, t in enumerate(inputs):
        if not isinstance(t, str):
            raise InputError(f"text input {i} is {t!r} ({type(t).__name__}), not a string; text inputs must be a "
                             "list of strings (drop or fill missing ones first).")
        if not t.strip():
            raise InputError(f"text input {i} is empty or whitespace only ({t!r}); there is nothing to explain.")
    return list(inputs)


def word_doc(text: str) -> TextDoc:
    """A string-model document: features are the whitespace words."""
    return TextDoc(text=text, features=[text[a:b] for a, b in split_words(text)])


def token_doc(text: str, ids: Sequence[int], offsets: Sequence[tuple[int, int]], special: Sequence[bool],
              tokens: Sequence[str], granularity: Granularity, truncated: bool) -> TextDoc:
    """A token-model document from a fast tokenizer's ids, character offsets and special-token mask."""
    ids = np.asarray(ids, dtype=np.int64)
    special = np.asarray(special, dtype=bool)
    spans = split_words(text)
    starts = np.array([a for a, _ in spans])
    token_feature = np.full(len(ids), -1, dtype=np.int64)
    if granularity == "token":
        features = []
        for t, (is_special, tok) in enumerate(zip(special, tokens)):
            if not is_special:
                token_feature[t] = len(features)
                features.append(tok)
        dropped_words = 0
        if truncated:
            last_end = max((b for (a, b), s in zip(offsets, special) if not s), default=0)
            dropped_words = int(sum(a >= last_end for a, _ in spans))
        return TextDoc(text, features, ids, token_feature, dropped_words)
    word_of_token = np.full(len(ids), -1, dtype=np.int64)
    for t, ((a, b), is_special) in enumerate(zip(offsets, special)):
        if not is_special and b > a:
            word_of_token[t] = int(np.searchsorted(starts, a, side="right") - 1)
    seen = sorted(set(word_of_token[word_of_token >= 0].tolist()))
    index = {w: i for i, w in enumerate(seen)}
    for t, w in enumerate(word_of_token):
        if w >= 0:
            token_feature[t] = index[w]
    features = [text[spans[w][0]:spans[w][1]] for w in seen]
    return TextDoc(text, features, ids, token_feature, len(spans) - len(seen) if truncated else 0)


@dataclass(frozen=True)
class TextPerturbation:
    """A TextDoc bound to a removal mode, in the shape ``masked_probs`` expects."""

    doc: TextDoc
    mode: RemovalMode = "delete"
    replacement_id: int | None = None
    replacement_text: str = ""
    replicates: int = 1

    @property
    def n_features(self) -> int:
        return self.doc.n_features

    def render(self, keep: np.ndarray) -> list:
        return self.doc.render(keep, self.mode, self.replacement_id, self.replacement_text)

    def row_bytes(self) -> int:
        """int64 token ids, or about one byte per character of a string row."""
        return 8 * len(self.doc.ids) if self.doc.ids is not None else len(self.doc.text) + 50

"""Candidate words from the victim's own input-embedding space: nearest neighbours by cosine among whole-word
vocabulary entries (no "##" pieces, no stop words, letters only). Built once per model and kept in memory."""

from __future__ import annotations

import weakref
from typing import Sequence

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from ...errors import UnsupportedError

STOP_WORDS = frozenset(ENGLISH_STOP_WORDS)
_CACHE: "weakref.WeakKeyDictionary[object, WordVocabulary]" = weakref.WeakKeyDictionary()


class WordVocabulary:
    """``words`` (V,) and their ``vectors`` (V, D); ``neighbours`` by cosine similarity, memoised per word.
    ``token_ids`` (V,): each word's id in the model's vocabulary (default 0..V-1)."""

    def __init__(self, words: Sequence[str], vectors: np.ndarray, token_ids: Sequence[int] | None = None):
        self.words = list(words)
        self.index = {w: i for i, w in enumerate(self.words)}
        v = np.asarray(vectors, dtype=np.float32)
        self.vectors = v
        self.unit = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
        self.token_ids = np.asarray(token_ids if token_ids is not None else np.arange(len(self.words)))
        self._memo: dict[tuple[str, int, float], list[tuple[str, float]]] = {}

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def neighbours(self, word: str, k: int, min_similarity: float) -> list[tuple[str, float]]:
        """Up to ``k`` (word, cosine) pairs, most similar first, cosine >= ``min_similarity``; [] if unknown."""
        key = (word, k, min_similarity)
        if key not in self._memo:
            i = self.index.get(word)
            if i is None:
                self._memo[key] = []
            else:
                sims = self.unit @ self.unit[i]
                sims[i] = -np.inf
                top = np.argpartition(-sims, min(k, len(sims) - 1))[:k]
                top = top[np.argsort(-sims[top], kind="stable")]
                self._memo[key] = [(self.words[j], float(sims[j])) for j in top if sims[j] >= min_similarity]
        return self._memo[key]

    def similarity(self, a: str, b: str) -> float:
        return float(self.unit[self.index[a]] @ self.unit[self.index[b]])


def is_candidate_word(token: str) -> bool:
    return len(token) >= 2 and token.isascii() and token.isalpha() and token.lower() not in STOP_WORDS


def vocabulary_of(model) -> WordVocabulary:
    """The whole-word vocabulary of a Hugging Face ``model`` (a lumos HuggingFaceTextModel), built once."""
    if not model.can("token_embeddings"):
        raise UnsupportedError(f"{type(model).__name__} has no input-embedding matrix to take candidate words "
                               "from; pass vocabulary=WordVocabulary(words, vectors) built from any word vectors.")
    network, tokenizer = model.network, model.tokenizer
    if network not in _CACHE:
        vocab = tokenizer.get_vocab()
        special = set(tokenizer.all_special_tokens)
        pairs = sorted((i, t) for t, i in vocab.items() if t not in special and is_candidate_word(t) and t == t.lower())
        ids = [i for i, _ in pairs]
        weight = model.input_embeddings().weight.detach().float().cpu().numpy()
        _CACHE[network] = WordVocabulary([t for _, t in pairs], weight[ids], ids)
    return _CACHE[network]

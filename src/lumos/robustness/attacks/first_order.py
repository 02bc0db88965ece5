"""First-order estimates of word swaps from one gradient row per sentence: replacing word j (a whole-word
token t) by vocabulary word v changes the true class's logit by about ``g_t . (e_v - e_t)``."""

from __future__ import annotations

import numpy as np
import torch

from ...models import Model
from .base import split_core
from .vocabulary import STOP_WORDS, WordVocabulary


def word_positions(words: list[str], features: list[str]) -> dict[int, int]:
    """Whitespace-word index -> feature index of a model document (they differ only when some words produce
    no tokens, e.g. past truncation)."""
    out, k = {}, 0
    for j, w in enumerate(words):
        if k < len(features) and features[k] == w:
            out[j] = k
            k += 1
    return out


def swap_gains(model: Model, vocab: WordVocabulary, sentences: list[list[str]], labels: np.ndarray,
               skip: list[set[int]] | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per sentence (word indices (n,), estimated logit change (n, V)) for every modifiable word: a lowercase
    whole-word token of ``vocab``, not a stop word, not in ``skip``. One gradient row per sentence."""
    batch = model.prepare([" ".join(w) for w in sentences], "word")
    grads = model.gradient_space(batch).gradient_at_x(torch.as_tensor(labels, dtype=torch.long), "logit")
    embed = torch.from_numpy(vocab.vectors)
    out = []
    for i, (words, doc) in enumerate(zip(sentences, batch.docs)):  # type: ignore[arg-type]
        rows, tokens, word_ids = [], [], []
        for j, k in word_positions(words, doc.features).items():
            core = split_core(words[j])[1].lower()
            if (skip and j in skip[i]) or core in STOP_WORDS or core not in vocab:
                continue
            hits = np.flatnonzero((doc.token_feature == k) & (doc.ids == vocab.token_ids[vocab.index[core]]))
            if len(hits):
                rows.append(j)
                tokens.append(int(hits[0]))
                word_ids.append(vocab.index[core])
        if not rows:
            out.append((np.zeros(0, dtype=int), np.zeros((0, len(vocab.words)), dtype=np.float32)))
            continue
        g = grads[i, tokens].float().cpu()  # (n, D)
        delta = g @ embed.T - (g * embed[word_ids]).sum(1, keepdim=True)
        out.append((np.array(rows), delta.numpy()))
    return out

"""First-order estimates of word swaps from one gradient row per sentence: replacing word j (a whole-word
token t) by vocabulary word v changes the true class's logit by about ``g_t . (e_v - e_t)``.

Bag-of-words models (a scikit-learn pipeline of a CountVectorizer or TfidfVectorizer and a linear classifier)
have no embeddings, but their logit is linear in the word features, so the same estimate is exact up to the
change of the document's norm: ``(w_y[v] idf[v] - w_y[t] idf[t]) / ||x||`` (HotFlip's flip of one one-hot
input, in the vectorizer's space)."""

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


def linear_text_parts(model: Model) -> tuple[object, np.ndarray, np.ndarray] | None:
    """(vectorizer, per-class weights (K, F), per-feature scale (F,)) of a scikit-learn text pipeline that is a
    CountVectorizer/TfidfVectorizer followed by a linear classifier; None for any other model."""
    estimator = getattr(model, "estimator", None)
    steps = getattr(estimator, "steps", None)
    if not steps or len(steps) != 2:
        return None
    vectorizer, head = steps[0][1], steps[1][1]
    coef = getattr(head, "coef_", None)
    if not hasattr(vectorizer, "vocabulary_") or coef is None or getattr(vectorizer, "ngram_range", (1, 1))[0] != 1:
        return None
    coef = np.asarray(coef, dtype=np.float64)
    weights = np.vstack([-coef[0], coef[0]]) if coef.shape[0] == 1 else coef  # binary: the log-odds of class 1
    scale = np.asarray(getattr(vectorizer, "idf_", np.ones(coef.shape[1])), dtype=np.float64)
    return vectorizer, weights, scale


def _linear_gains(parts, vocab: WordVocabulary, sentences: list[list[str]], labels: np.ndarray,
                  skip: list[set[int]] | None) -> list[tuple[np.ndarray, np.ndarray]]:
    vectorizer, weights, scale = parts
    index = vectorizer.vocabulary_
    in_vec = np.array([index.get(w, -1) for w in vocab.words])
    norms = np.asarray(np.sqrt(vectorizer.transform([" ".join(w) for w in sentences]).power(2).sum(1))).ravel() \
        if getattr(vectorizer, "norm", None) == "l2" else np.ones(len(sentences))
    out = []
    for i, (words, y) in enumerate(zip(sentences, labels)):
        value = np.where(in_vec >= 0, weights[y, np.maximum(in_vec, 0)] * scale[np.maximum(in_vec, 0)], 0.0)
        rows, old = [], []
        for j, w in enumerate(words):
            core = split_core(w)[1].lower()
            if (skip and j in skip[i]) or core in STOP_WORDS or core not in vocab:
                continue
            f = index.get(core, -1)
            rows.append(j)
            old.append(weights[y, f] * scale[f] if f >= 0 else 0.0)
        norm = norms[i] if norms[i] > 0 else 1.0
        delta = (value[None, :] - np.array(old)[:, None]) / norm if rows else np.zeros((0, len(vocab.words)))
        out.append((np.array(rows, dtype=int), delta.astype(np.float32)))
    return out


def estimate_rows(model: Model) -> int:
    """Model rows one estimate costs a sentence: a gradient row, or none for a linear pipeline's weights."""
    return 0 if linear_text_parts(model) is not None else 1


def swap_gains(model: Model, vocab: WordVocabulary, sentences: list[list[str]], labels: np.ndarray,
               skip: list[set[int]] | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per sentence (word indices (n,), estimated logit change (n, V)) for every modifiable word: a lowercase
    whole-word token of ``vocab``, not a stop word, not in ``skip``. One gradient row per sentence (for linear
    bag-of-words pipelines, their weights instead)."""
    parts = linear_text_parts(model)
    if parts is not None:
        return _linear_gains(parts, vocab, sentences, labels, skip)
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

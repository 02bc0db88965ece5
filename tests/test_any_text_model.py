"""Attacks and error slices on any text model, not only transformers: scikit-learn pipelines take candidate
words from the packaged MiniLM's input embeddings, HotFlip's first-order estimate comes from a linear
pipeline's weights (exact for word counts), and error slices are discovered in TF-IDF space."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

import lumos
from lumos import UnsupportedError, robustness
from lumos.robustness.attacks.first_order import swap_gains
from lumos.robustness.attacks.vocabulary import packaged_vocabulary, vocabulary_of

TEXTS = ["a great film", "a wonderful moving story", "great acting and a great script", "truly wonderful",
         "a dull film", "boring and far too long", "dull acting and a boring script", "truly awful"]
LABELS = [1, 1, 1, 1, 0, 0, 0, 0]


@pytest.fixture(scope="module")
def tfidf():
    return make_pipeline(TfidfVectorizer(), LogisticRegression(C=10.0)).fit(TEXTS, LABELS)


def test_the_packaged_vocabulary_is_minilm_whole_words_with_sensible_neighbours():
    vocab = packaged_vocabulary()
    assert len(vocab.words) > 20_000 and vocab.vectors.shape == (len(vocab.words), 384)
    assert all(w.isalpha() and w == w.lower() for w in vocab.words[:500])
    assert "great" in [w for w, _ in vocab.neighbours("excellent", 10, 0.3)]
    assert vocabulary_of(lumos.wrap(make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(TEXTS, LABELS))) \
        is vocab


def test_textfooler_and_hotflip_attack_a_scikit_learn_pipeline_within_budget(tfidf):
    vocab = set(packaged_vocabulary().words)
    for recipe in ("textfooler", "hotflip"):
        result = robustness.attack(tfidf, TEXTS, recipe, labels=LABELS, budget=60)
        assert result.success_rate > 0.3, (recipe, result.summary())
        for e in result.examples:
            assert e.queries <= 60
            if e.status == "succeeded":
                new = [w for w, o in zip(e.perturbed.split(), e.original.split()) if w != o]
                assert new and all(w.lower() in vocab for w in new)
                assert np.argmax(e.probs_perturbed) != e.label
        assert result.forward_rows == sum(e.queries for e in result.examples)


def test_hotflip_estimate_on_word_counts_is_the_exact_logit_change():
    model = make_pipeline(CountVectorizer(), LogisticRegression(C=5.0)).fit(TEXTS, LABELS)
    wrapped = lumos.wrap(model)
    vocab = packaged_vocabulary()
    sentence = "a great film".split()
    [(rows, delta)] = swap_gains(wrapped, vocab, [sentence], np.array([1]))
    assert list(rows) == [1, 2]  # "a" is a stop word
    base = model.decision_function([" ".join(sentence)])[0]
    for r, j in enumerate(rows):
        for new in ("wonderful", "dull", "boring", "banana"):
            swapped = sentence[:j] + [new] + sentence[j + 1:]
            exact = model.decision_function([" ".join(swapped)])[0] - base
            assert delta[r, vocab.index[new]] == pytest.approx(exact, abs=1e-5)


def test_hotflip_on_a_model_without_gradients_or_weights_names_the_alternatives():
    with pytest.raises(UnsupportedError, match="use textfooler or deepwordbug"):
        robustness.attack(lambda ts: np.full((len(ts), 2), 0.5), TEXTS, "hotflip")


def test_error_slices_are_discovered_in_tfidf_space_for_a_pipeline(tfidf):
    rng = np.random.default_rng(0)
    topics = {"space": ["rocket", "orbit", "planet", "launch"], "cooking": ["recipe", "oven", "flavour", "spice"]}
    texts, labels = [], []
    for i in range(120):
        topic = "space" if i % 2 else "cooking"
        words = list(rng.choice(topics[topic], 3)) + [str(rng.choice(["great", "dull"]))]
        texts.append(" ".join(words))
        labels.append(int("great" in words) if topic == "cooking" else 1 - int("great" in words))  # space: flipped
    report = robustness.slices(tfidf, texts, labels, rules=[], n_clusters=2, min_size=10)
    found = [s for s in report.slices if s.source == "discovered"]
    assert found and min(s.accuracy for s in found) < report.overall_accuracy - 0.2

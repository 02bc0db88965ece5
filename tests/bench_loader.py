"""Model loaders for the bench tests (importable as "bench_loader:NAME" with tests/ on the path)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

WORDS = {"good": 0.3, "great": 0.4, "bad": -0.3, "awful": -0.4}
TEXTS = ["a good film", "a great and good cast", "bad acting", "an awful , bad plot", "good but bad",
         "great", "the awful truth", "not bad at all", "good good good", "a film"] * 3


def _probs(texts: list[str]) -> np.ndarray:
    p = np.array([0.5 + sum(WORDS.get(w, 0.0) for w in t.split()) for t in texts]).clip(0.01, 0.99)
    return np.stack([1 - p, p], axis=1)


def word_model():
    """An additive word model and 30 sentences (with the first word of each as its 'rationale')."""
    frame = pd.DataFrame({"text": TEXTS, "label": [int(t.split()[0] in ("good", "great")) for t in TEXTS]})
    frame["rationale"] = [np.arange(len(t.split())) == 0 for t in TEXTS]
    return _probs, {"test": frame}


def slow_word_model():
    """The same model, 0.15 s per call, so a test can kill a bench in the middle of it."""
    def slow(texts):
        time.sleep(0.15)
        return _probs(texts)

    model, splits = word_model()
    return slow, splits


def hostile_text_model():
    """A review whose text is an attack on the report page: it must show as text and run nothing."""
    model, splits = word_model()
    frame = splits["test"].copy()
    frame.loc[0, "text"] = "good <script>alert(1)</script> <img src=x onerror=alert(2)> film"
    frame.loc[0, "rationale"] = np.zeros(6, dtype=bool)
    return model, {"test": frame}


def tabular_model():
    """A logistic score over three named columns."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(20, 3)), columns=["income", "age", "debt <ratio>"])
    w = np.array([1.0, 0.2, -1.5])

    def probs(x):
        p = 1 / (1 + np.exp(-(np.asarray(x, dtype=float) @ w)))
        return np.stack([1 - p, p], axis=1)

    frame["label"] = (frame.to_numpy() @ w > 0).astype(int)
    return probs, {"test": frame}


def image_model():
    """A model that reads the mean brightness of the top-left quarter of 8x8 images."""
    rng = np.random.default_rng(0)
    images = rng.random((6, 3, 8, 8)).astype(np.float32)

    def probs(x):
        p = np.asarray(x)[:, :, :4, :4].mean(axis=(1, 2, 3))
        return np.stack([1 - p, p], axis=1)

    return probs, {"test": pd.DataFrame({"image": list(images), "label": [0, 1] * 3})}


VARIANT = {"weights": 0, "texts": 0}  # tests change these between two runs of the same spec


def changing_model():
    """A scikit-learn TF-IDF pipeline whose weights (VARIANT["weights"]) and examples (VARIANT["texts"]) a test
    can change under one loader name, i.e. under one run id."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    labels = [int(t.split()[0] in ("good", "great")) for t in TEXTS]
    model = make_pipeline(TfidfVectorizer(), LogisticRegression(C=1.0 + 9 * VARIANT["weights"])).fit(TEXTS, labels)
    texts = TEXTS if not VARIANT["texts"] else [t + " indeed" for t in TEXTS]
    return model, {"test": pd.DataFrame({"text": texts, "label": labels})}


def failing_model():
    """The word model, except that it returns NaN for an empty text (as a broken model might): predictions on
    the sentences are fine, occlusion of the one-word sentence "great" is not."""
    def probs(texts):
        p = _probs(texts)
        p[[not t.strip() for t in texts]] = np.nan
        return p

    return probs, word_model()[1]


NOT_A_FUNCTION = {"model": "a dict, not a loader"}

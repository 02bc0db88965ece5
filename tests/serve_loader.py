"""Model loaders for the workbench tests ("serve_loader:NAME" with tests/ on the path): small, built from seeds,
with the training data the workbench's counterfactuals and influence read, and names that attack the page."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from lumos import wrap
from lumos.nle import Completion

WORDS = {"good": 0.3, "great": 0.4, "bad": -0.3, "awful": -0.4}
TEXTS = ["a good film", "a great and good cast", "bad acting", "an awful , bad plot", "good but bad", "great",
         "the awful truth", "not bad at all", "good good good", "a film", "not great", "bad but not awful"]
HOSTILE_LABELS = ["<b>negative</b>", "<img src=x onerror=alert('label')>"]
COLUMNS = ["income", "age", "debt <ratio>", "<script>alert('column')</script>"]
WEIGHTS = np.array([1.5, 0.3, -1.2, 0.0])


def word_probs(texts: list[str]) -> np.ndarray:
    """p(positive) = 0.5 + the weights of the words present, clipped to [0.01, 0.99]."""
    p = np.array([0.5 + sum(WORDS.get(w, 0.0) for w in t.split()) for t in texts]).clip(0.01, 0.99)
    return np.stack([1 - p, p], axis=1)


def text_frame(texts: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"text": texts, "label": [int(word_probs([t])[0, 1] > 0.5) for t in texts]})


def text_model():
    """The additive word model with two hostile class names; every label is its own prediction except where
    the test split flips a few (so slices have errors)."""
    test = text_frame(TEXTS * 3)
    test.loc[[0, 4, 7, 9], "label"] = 1 - test.loc[[0, 4, 7, 9], "label"]
    test.loc[1, "text"] = "good <script>alert('text')</script> <img src=x onerror=alert('img')> film"
    return wrap(word_probs, labels=HOSTILE_LABELS), {"test": test, "train": text_frame(TEXTS)}


def flipped_text_model():
    """The same data, a model that reads "not" as a negation: it fixes some examples and breaks others."""
    def probs(texts: list[str]) -> np.ndarray:
        out = word_probs(texts)
        return np.where(np.array(["not" in t.split() for t in texts])[:, None], out[:, ::-1], out)

    _, splits = text_model()
    return wrap(probs, labels=HOSTILE_LABELS), splits


def slow_text_model():
    """The word model at 0.1 s per model call, so a test sees a job in the middle."""
    import time

    def probs(texts: list[str]) -> np.ndarray:
        time.sleep(0.1)
        return word_probs(texts)

    _, splits = text_model()
    return wrap(probs, labels=HOSTILE_LABELS), splits


def table_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(n, len(COLUMNS))).round(3), columns=COLUMNS)
    frame["label"] = (frame[COLUMNS].to_numpy() @ WEIGHTS > 0).astype(np.int64)
    return frame


def table_model():
    """A small MLP (a torch network, so influence applies) trained on 120 rows of four named columns."""
    train, test = table_frame(120, 0), table_frame(40, 1)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(len(COLUMNS), 8), nn.Tanh(), nn.Linear(8, 2))
    x = torch.tensor(train[COLUMNS].to_numpy(), dtype=torch.float32)
    y = torch.tensor(train["label"].to_numpy())
    optimiser = torch.optim.Adam(net.parameters(), lr=0.03, weight_decay=0.05)  # not saturated: influence shows
    for _ in range(60):
        optimiser.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        optimiser.step()
    net.eval()
    return wrap(net, labels=["no", "yes"]), {"train": train, "test": test}


def image_model():
    """Reads the mean brightness of the top-left quarter of 8x8 colour images."""
    rng = np.random.default_rng(0)
    images = rng.random((6, 3, 8, 8)).astype(np.float32)

    def probs(x):
        p = np.asarray(x)[:, :, :4, :4].mean(axis=(1, 2, 3))
        return np.stack([1 - p, p], axis=1)

    frame = pd.DataFrame({"image": list(images), "label": [0, 1] * 3})
    return wrap(probs, labels=["dark", "bright"]), {"test": frame, "train": frame}


class CannedGenerator:
    """A stand-in for the language model: always the same answer (so "why?" is testable in milliseconds)."""

    name = "canned"
    context_length = None

    def __init__(self, answer: str = "Because it says good and film."):
        self.answer = answer

    def count_tokens(self, messages) -> int:
        return sum(len(m["content"].split()) for m in messages)

    def generate(self, conversations, max_new_tokens=60, temperature=0.0, seed=0):
        return [Completion(self.answer, 10, 8) for _ in conversations]

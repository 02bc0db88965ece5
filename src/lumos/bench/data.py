"""Where a bench run's model and examples come from: the zoo, the cue-word ground-truth task, or a user's
loader function (whose splits may be DataFrames, Parquet/CSV paths or ``datasets`` objects), or a file of
examples named in the spec; examples are read lazily (``examples.py``)."""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..models import Model, wrap
from .examples import Examples, FrameExamples, examples_of


@dataclass
class BenchData:
    """``inputs``: what lumos.explain takes (list of str, (N, C, H, W) array or DataFrame);
    ``labels``: (N,) the true labels or None; ``rationales``: per example a bool mask over words, or None."""

    model: Model
    inputs: Any
    labels: list | None
    rationales: list[np.ndarray] | None
    background: Any = None  # tables: training rows that removed columns are replaced with
    train: Any = None  # tables: the training rows (counterfactual searches take their ranges and categories)


@dataclass
class Source:
    """A run's model and its examples, read lazily, with what every slice of them shares (tables: the
    background rows and the training rows)."""

    model: Model
    examples: Examples
    background: Any = None
    train: Any = None

    def part(self, frame: pd.DataFrame) -> BenchData:
        """The examples of ``frame`` (consecutive rows of the source) ready for a unit of work."""
        return from_frame(self.model, frame, self.background, self.train)


BACKGROUND_ROWS = 50
TRAIN_ROWS = 10_000  # tables read from a file: training rows sampled for counterfactual ranges and categories


def open_source(model_name: str, split: str, n: int, data: str = "") -> Source:
    """The model and the first ``n`` examples of ``split`` (or of the file ``data``), nothing read yet."""
    model, splits = _model_and_splits(model_name)
    if data:
        examples = examples_of(data, n)
    elif split not in splits:
        raise InputError(f"{model_name} has no split {split!r}; it has {', '.join(splits)}.")
    else:
        examples = examples_of(splits[split], n)
    if not len(examples):
        raise InputError(f"{data or split} of {model_name} holds no examples; give a split or file with rows.")
    source = Source(wrap(model), examples)
    head = source.part(examples.head(1))
    if isinstance(head.inputs, pd.DataFrame):
        columns = list(head.inputs.columns)
        pool = examples_of(splits["train"] if "train" in splits else (data or splits[split]))
        source.train = (pool.frame if isinstance(pool, FrameExamples) else pool.sample(TRAIN_ROWS))[columns]
        source.background = pool.sample(BACKGROUND_ROWS)[columns]
    return source


def load(model_name: str, split: str, n: int) -> BenchData:
    """The model and the first ``n`` examples of ``split``, in memory."""
    source = open_source(model_name, split, n)
    return source.part(source.examples.head(n))


def load_model(model_name: str) -> Model:
    """The model alone (what a worker needs: its examples come from the driver)."""
    return wrap(_model_and_splits(model_name)[0])


def _model_and_splits(model_name: str) -> tuple[Any, dict[str, Any]]:
    if ":" in model_name:
        return _user_loader(model_name)
    if model_name.startswith("groundtruth/"):
        return _cue_word_model(model_name)
    from .. import zoo

    return zoo.load(model_name)


def from_frame(model: Model, df: pd.DataFrame, background: Any = None, train: Any = None) -> BenchData:
    labels = df["label"].tolist() if "label" in df else None
    rationales = [np.asarray(json.loads(r) if isinstance(r, str) else r, dtype=bool) for r in df["rationale"]] \
        if "rationale" in df else None
    if "text" in df:
        return BenchData(model, df["text"].tolist(), labels, rationales)
    if "image" in df:
        return BenchData(model, np.stack(df["image"].to_numpy()).astype(np.float32), labels, rationales)
    features = df.drop(columns=[c for c in ("label", "rationale") if c in df])
    return BenchData(model, features, labels, rationales, background, train)


def _user_loader(spec: str) -> tuple[Any, dict[str, pd.DataFrame]]:
    module_name, _, func = spec.partition(":")
    try:
        loader = getattr(importlib.import_module(module_name), func)
    except (ImportError, AttributeError) as e:
        raise InputError(f"cannot load the model loader {spec!r}: {e}. Give 'package.module:function' "
                         "returning (model, {'test': DataFrame, ...}).") from None
    result = loader()
    if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict)):
        raise InputError(f"{spec} must return (model, splits dict of DataFrames); got {type(result).__name__}.")
    return result


def _cue_word_model(name: str) -> tuple[Any, dict[str, pd.DataFrame]]:
    """groundtruth/tfidf: TF-IDF + logistic regression trained on the cue-word task over the sentiment
    data's training split; its test split keeps only cued sentences, with their true rationales."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from ..groundtruth import cue_word_task
    from ..zoo.datasets import sentiment

    if name != "groundtruth/tfidf":
        raise InputError(f"unknown ground-truth model {name!r}; available: groundtruth/tfidf.")
    splits = sentiment().splits
    train = cue_word_task(splits["train"].text.tolist(), seed=0, max_words=40)
    test = cue_word_task(splits["test"].text.tolist(), seed=1, max_words=40)
    model = make_pipeline(TfidfVectorizer(), LogisticRegression(C=10.0, max_iter=2000)).fit(train.text, train.label)
    test = test[test.has_cue].drop(columns="has_cue").reset_index(drop=True)
    return wrap(model, labels=["negative", "positive"]), {"test": test, "train": train.drop(columns="has_cue")}

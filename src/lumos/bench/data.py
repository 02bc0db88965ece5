"""Where a bench run's model and examples come from: the zoo, the cue-word ground-truth task, or a user's
loader function (whose splits may be DataFrames, Parquet/CSV paths or ``datasets`` objects), or a file of
examples named in the spec; examples are read lazily (``examples.py``)."""

from __future__ import annotations

import importlib
import inspect
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
    zoo_meta: dict | None = None  # zoo models: the cache entry's metadata (recipe version, settings, weights hash)


@dataclass
class Source:
    """A run's model and its examples, read lazily, with what every slice of them shares (tables: the
    background rows and the training rows) and the zoo entry's metadata (for the run's fingerprint)."""

    model: Model
    examples: Examples
    background: Any = None
    train: Any = None
    zoo_meta: dict | None = None

    def part(self, frame: pd.DataFrame) -> BenchData:
        """The examples of ``frame`` (consecutive rows of the source) ready for a unit of work."""
        data = from_frame(self.model, frame, self.background, self.train)
        data.zoo_meta = self.zoo_meta
        return data


BACKGROUND_ROWS = 50
TRAIN_ROWS = 10_000  # tables read from a file: training rows sampled for counterfactual ranges and categories


def sample(frame: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` rows drawn without replacement from ``seed``, each class (the ``label`` column) in proportion to
    its share of ``frame`` (largest remainders; a class too rare for a row of its own may get none), kept in
    the frame's order. All rows when ``n`` covers them; a plain seeded sample without labels."""
    if n >= len(frame):
        return frame
    rng = np.random.default_rng(seed)
    if "label" not in frame:
        return frame.iloc[np.sort(rng.choice(len(frame), n, replace=False))]
    labels = frame["label"].astype(str).to_numpy()
    classes, counts = np.unique(labels, return_counts=True)
    exact = n * counts / len(frame)
    quota = np.floor(exact).astype(int)
    order = np.lexsort((classes, -(exact - quota)))  # largest remainder first, then by class name
    quota[order[:n - quota.sum()]] += 1
    picked = [rng.choice(np.flatnonzero(labels == c), q, replace=False) for c, q in zip(classes, quota) if q]
    return frame.iloc[np.sort(np.concatenate(picked))]


def open_source(model_name: str, split: str, n: int, data: str = "", seed: int = 0, first: bool = False) -> Source:
    """The model and ``n`` examples, nothing read yet: from the file ``data`` (its first ``n`` rows, read a slice
    at a time), else from ``split``: a seeded sample with the classes in proportion (``sample``) when the split
    is in memory, or its first ``n`` rows with ``first=True`` (and for a split given as a file or dataset)."""
    model, splits, meta = load_with_meta(model_name)
    if data:
        examples = examples_of(data, n)
    elif split not in splits:
        raise InputError(f"{model_name} has no split {split!r}; it has {', '.join(splits)}.")
    elif isinstance(splits[split], pd.DataFrame) and not first:
        examples = examples_of(sample(splits[split], n, seed).reset_index(drop=True), n)
    else:
        examples = examples_of(splits[split], n)
    if not len(examples):
        raise InputError(f"{data or split} of {model_name} holds no examples; give a split or file with rows.")
    source = Source(wrap(model), examples, zoo_meta=meta)
    head = source.part(examples.head(1))
    if isinstance(head.inputs, pd.DataFrame):
        columns = list(head.inputs.columns)
        pool = examples_of(splits["train"] if "train" in splits else (data or splits[split]))
        source.train = (pool.frame if isinstance(pool, FrameExamples) else pool.sample(TRAIN_ROWS))[columns]
        source.background = pool.sample(BACKGROUND_ROWS)[columns]
    return source


def load(model_name: str, split: str, n: int, seed: int = 0, first: bool = False) -> BenchData:
    """The model and ``n`` examples of ``split`` (as ``open_source`` picks them), in memory."""
    source = open_source(model_name, split, n, seed=seed, first=first)
    return source.part(source.examples.head(n))


def load_model(model_name: str) -> Model:
    """The model alone (what a worker needs: its examples come from the driver)."""
    return wrap(load_with_meta(model_name)[0])


def load_model_and_splits(model_name: str) -> tuple[Any, dict[str, Any]]:
    """(model, splits) for a bench model name (what lumos serve opens for live work)."""
    return load_with_meta(model_name)[:2]


def load_with_meta(model_name: str) -> tuple[Any, dict[str, Any], dict | None]:
    """(model, splits, zoo metadata or None) for a bench model name: a zoo name, a model trained with
    ``lumos.train`` (name or folder), "groundtruth/tfidf" or "package.module:function"."""
    if ":" in model_name:
        return (*_user_loader(model_name), None)
    if model_name.startswith("groundtruth/"):
        return (*_cue_word_model(model_name), None)
    from .. import zoo
    from ..zoo import loader

    if model_name in zoo.names():
        return loader.load_with_meta(model_name)
    from ..registry import did_you_mean
    from ..training import resolve, store  # a model trained with lumos.train (its name or folder)

    if store.locate(model_name) is None:
        raise did_you_mean(model_name, zoo.names() + store.names(), "model",
                           head=f"no zoo model named {model_name!r}, nor a model trained with lumos train: a bench "
                                "model is a zoo name, a trained model's name or folder, groundtruth/tfidf or "
                                "'package.module:function'")
    return (*resolve(model_name), None)


def from_frame(model: Model, df: pd.DataFrame, background: Any = None, train: Any = None) -> BenchData:
    labels = df["label"].tolist() if "label" in df else None
    if labels is not None and df["label"].isna().any():
        rows = np.flatnonzero(df["label"].isna().to_numpy())[:5].tolist()
        raise InputError(f"the label column has missing values (rows {rows} of this slice); fill or drop them, or "
                         "leave the column out when the examples have no labels.")
    rationales = [np.asarray(json.loads(r) if isinstance(r, str) else r, dtype=bool) for r in df["rationale"]] \
        if "rationale" in df else None
    if "text" in df:
        return BenchData(model, df["text"].tolist(), labels, rationales)
    if "image" in df:
        return BenchData(model, np.stack(df["image"].to_numpy()).astype(np.float32), labels, rationales)
    features = df.drop(columns=[c for c in ("label", "rationale") if c in df])
    return BenchData(model, features, labels, rationales, background, train)


def _user_loader(spec: str) -> tuple[Any, dict[str, pd.DataFrame]]:
    """Import and call the function a spec names. A spec that names a function runs code, as a script does:
    load specs only from people you trust. Anything but a function or class is refused before any call."""
    module_name, _, func = spec.partition(":")
    usage = "Give 'package.module:function' returning (model, {'test': DataFrame, ...})."
    if not module_name or not func or not all(p.isidentifier() for p in module_name.split(".") + func.split(".")):
        raise InputError(f"model {spec!r} is not a zoo name or 'package.module:function'. {usage}")
    try:
        loader: Any = importlib.import_module(module_name)
        for part in func.split("."):
            loader = getattr(loader, part)
    except (ImportError, AttributeError) as e:
        raise InputError(f"cannot load the model loader {spec!r}: {e}. {usage}") from None
    if not (inspect.isfunction(loader) or inspect.isclass(loader) or inspect.ismethod(loader)
            or inspect.isbuiltin(loader)):
        raise InputError(f"{spec} is a {type(loader).__name__}, not a function; nothing was called. {usage}")
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

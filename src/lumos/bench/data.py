"""Where a bench run's model and examples come from: the zoo, the cue-word ground-truth task, or a user's
loader function."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..models import Model, wrap


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


def load(model_name: str, split: str, n: int) -> BenchData:
    """The model and the first ``n`` examples of ``split``."""
    if ":" in model_name:
        model, splits = _user_loader(model_name)
    elif model_name.startswith("groundtruth/"):
        model, splits = _cue_word_model(model_name)
    else:
        from ..training import resolve  # a zoo name, or a model trained with lumos.train (name or folder)

        model, splits = resolve(model_name)
    if split not in splits:
        raise InputError(f"{model_name} has no split {split!r}; it has {', '.join(splits)}.")
    data = from_frame(wrap(model), splits[split].iloc[:n].reset_index(drop=True))
    if isinstance(data.inputs, pd.DataFrame):
        pool = splits.get("train", splits[split])
        data.train = pool[data.inputs.columns]
        data.background = data.train.sample(min(BACKGROUND_ROWS, len(pool)), random_state=0)
    return data


BACKGROUND_ROWS = 50


def from_frame(model: Model, df: pd.DataFrame) -> BenchData:
    labels = df["label"].tolist() if "label" in df else None
    rationales = [np.asarray(r, dtype=bool) for r in df["rationale"]] if "rationale" in df else None
    if "text" in df:
        return BenchData(model, df["text"].tolist(), labels, rationales)
    if "image" in df:
        return BenchData(model, np.stack(df["image"].to_numpy()).astype(np.float32), labels, rationales)
    features = df.drop(columns=[c for c in ("label", "rationale") if c in df])
    return BenchData(model, features, labels, rationales)


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

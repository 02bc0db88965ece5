"""lumos.zoo: real models on real data, offline, one call away.

    model, splits = lumos.zoo.load("sentiment/minilm")
    lumos.explain(model, splits["test"].text[:4].tolist(), method="integrated_gradients")

Models come from installed packages or are trained here once and cached (see ``cache``); data comes from
package files (see ``datasets`` and ``tables``). Nothing is downloaded.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from ..models import Model
from ..registry import ZOO
from .cache import ENV_VAR, cache_root
from .datasets import imagenet_input
from .loader import cached_meta, load_with_meta
from .own_data import train_on
from .recipe import Entry
from .sources import MissingPackageError
from .tables import TableSchema

__all__ = ["names", "own_recipes", "get", "load", "load_with_meta", "train_on", "info", "imagenet_input", "cache_root", "ENV_VAR",
           "MissingPackageError", "TableSchema", "Entry"]


def names() -> list[str]:
    """Every zoo name, e.g. "sentiment/minilm", "tabular/adult/gbm" (in the order they were registered); the
    recipes for your own data are ``own_recipes()``."""
    return [n for n in ZOO.in_order() if ZOO.get(n).dataset is not None]


def own_recipes() -> list[str]:
    """The recipes that train on your data (``lumos.train``, ``train_on``): "own/image/efficientnet_lite0", ..."""
    return [n for n in ZOO.in_order() if ZOO.get(n).dataset is None]


def get(name: str) -> Entry:
    """The zoo entry registered as ``name``; an unknown name suggests the closest."""
    return ZOO.get(name)


def load(name: str, *, retrain: bool = False, progress: bool = True, cache_dir: str | os.PathLike | None = None,
         **settings: Any) -> tuple[Model, dict[str, pd.DataFrame]]:
    """(model, splits) for a zoo name.

    model: a lumos Model ready for ``lumos.explain``. splits: "train", "validation", "test" -> DataFrame
    (text: text, label; images: image (C, H, W) float32 in [0, 1], label; tables: the raw columns, label).
    The first call trains and caches the model (a progress bar shows it when ``progress``); later calls load
    it. ``retrain`` trains anew; ``cache_dir`` overrides $LUMOS_CACHE; ``settings`` override the recipe's
    (e.g. ``epochs=1, train_size=200`` for a quick version, cached separately).
    """
    model, splits, _ = load_with_meta(name, retrain=retrain, progress=progress, cache_dir=cache_dir, **settings)
    return model, splits


def info(name: str, cache_dir: str | os.PathLike | None = None, **settings: Any) -> dict[str, Any]:
    """What a zoo name is: summary, default settings, and the cached training record (metrics, data hash,
    seed, library versions) when it has been trained. Trains nothing."""
    import dataclasses

    entry = ZOO.get(name)
    return {"name": name, "summary": entry.summary, "pretrained": entry.train is None,
            "settings": dataclasses.asdict(entry.configure(settings)),
            "cached": cached_meta(name, cache_dir=cache_dir, **settings)}

"""``load``: a zoo name -> (lumos Model, splits), training once and caching when the model is not pre-trained."""

from __future__ import annotations

import dataclasses
import os
import platform
import sys
import time
import uuid
import warnings
from typing import Any

import pandas as pd

from ..models import Model
from . import cache, registry
from .recipe import Artifact


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for dist in ("lumos", "numpy", "torch", "scikit-learn", "pandas", "transformers", "safetensors"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            pass
    return out


def load_with_meta(name: str, retrain: bool = False, progress: bool = True,
                   cache_dir: str | os.PathLike | None = None, **settings: Any
                   ) -> tuple[Model, dict[str, pd.DataFrame], dict[str, Any]]:
    """(model, splits, metadata); see ``lumos.zoo.load``."""
    entry = registry.get(name)
    config = registry.configure(entry, settings)
    data = entry.dataset()
    if entry.train is None:
        meta = {"name": name, "pretrained": True, "data_hash": data.data_hash}
        return entry.build(None, data, config), data.copy_splits(), meta
    key = cache.fingerprint(name=name, version=entry.version, config=dataclasses.asdict(config),
                            data_hash=data.data_hash)
    slot = cache.slot(cache.cache_root(cache_dir), name, key)
    expected = {"name": name, "config": dataclasses.asdict(config), "data_hash": data.data_hash}
    found = None if retrain else slot.read(expected)
    if isinstance(found, tuple):
        built = _build(entry, found, data, config)
        if not isinstance(built, str):
            return built, data.copy_splits(), found[2]
        found = built  # the entry read but does not fit the recipe: treated as unusable, retrained below

    def waiting() -> None:
        print(f"lumos.zoo: another process is training {name}; waiting for it ({slot.lock_path})", file=sys.stderr)

    with slot.lock(on_wait=waiting):
        if not retrain:  # read again under the lock: another process may have (re)trained it meanwhile
            found = slot.read(expected)
            if isinstance(found, tuple):
                built = _build(entry, found, data, config)
                if not isinstance(built, str):
                    return built, data.copy_splits(), found[2]
                found = built
        if isinstance(found, str) and found != "not cached":
            warnings.warn(f"the cached {name} in {slot.directory} is unusable: {found}. Retraining it.",
                          RuntimeWarning, stacklevel=2)
        arrays, state, meta = _train(entry, config, data, slot, progress)
    model = entry.build(Artifact(arrays, state, meta["metrics"]), data, config)
    return model, data.copy_splits(), meta


def _build(entry, found, data, config) -> Model | str:
    """The model from a cache entry, or a string saying why the entry does not fit the recipe (missing or
    misshapen arrays, a state of another version)."""
    arrays, state, meta = found
    try:
        return entry.build(Artifact(arrays, state, meta["metrics"]), data, config)
    except (KeyError, ValueError, RuntimeError, TypeError, IndexError, AttributeError) as e:
        first = str(e).splitlines()[0][:200] if str(e) else ""
        return f"its files do not fit the recipe ({type(e).__name__}: {first})"


def _train(entry, config, data, slot: cache.Slot, progress: bool):
    start = time.perf_counter()
    artifact = entry.train(data, config, f"training {entry.name}", progress)
    meta = {"name": entry.name, "recipe_version": entry.version, "config": dataclasses.asdict(config),
            "seed": config.seed, "data_hash": data.data_hash, "metrics": artifact.metrics,
            "train_seconds": round(time.perf_counter() - start, 2), "versions": _versions(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "run_id": uuid.uuid4().hex, "threads": _threads()}
    slot.write(artifact.arrays, artifact.state, meta)
    return artifact.arrays, artifact.state, meta


def _threads() -> int:
    import torch

    return torch.get_num_threads()


def cached_meta(name: str, cache_dir: str | os.PathLike | None = None, **settings: Any) -> dict[str, Any] | None:
    """The metadata of ``name``'s intact cache entry for these settings, or None (nothing is trained)."""
    entry = registry.get(name)
    config = registry.configure(entry, settings)
    if entry.train is None:
        return None
    data = entry.dataset()
    key = cache.fingerprint(name=name, version=entry.version, config=dataclasses.asdict(config),
                            data_hash=data.data_hash)
    found = cache.slot(cache.cache_root(cache_dir), name, key).read()
    return found[2] if isinstance(found, tuple) else None

"""``load``: a zoo name -> (lumos Model, splits), training once and caching when the model is not pre-trained."""

from __future__ import annotations

import dataclasses
import os
import platform
import sys
import time
import uuid
import warnings
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..models import Model
from ..registry import ZOO
from . import cache
from .recipe import Artifact
from .training import FitOptions, config_key


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
    entry = own_data_only_check(name)
    config = entry.configure(settings)
    data = entry.dataset()
    if entry.train is None:
        meta = {"name": name, "pretrained": True, "data_hash": data.data_hash}
        return entry.build(None, data, config), data.copy_splits(), meta
    key = cache.fingerprint(name=name, version=entry.version, config=config_key(config), data_hash=data.data_hash)
    slot = cache.slot(cache.cache_root(cache_dir), name, key)
    model, _, meta = cached_training(entry, config, data, slot, retrain, progress,
                                     build=lambda a, st, me: entry.build(Artifact(a, st, me["metrics"]), data, config))
    return model, data.copy_splits(), meta


def own_data_only_check(name: str):
    """The zoo entry ``name``, unless it is a recipe for your own data (it has nothing to load)."""
    from ..errors import InputError

    entry = ZOO.get(name)
    if entry.dataset is None:
        raise InputError(f"{name} is a recipe for your own data and has no data of its own: train it with "
                         f"lumos.train(...) (or `lumos train`), or lumos.zoo.train_on({name!r}, splits, labels=...).")
    return entry


def cached_training(entry, config, data, slot: cache.Slot, retrain: bool, progress: bool,
                    options: FitOptions | None = None, record: dict[str, Any] | None = None, *,
                    build: Callable[[dict, dict, dict], Model]) -> tuple[Model, dict[str, np.ndarray], dict[str, Any]]:
    """(model, arrays, meta) of ``slot``: read when cached and intact, else trained under the slot's lock
    (a second process asking for the same entry waits, then reads it). ``options`` go to the trainer,
    ``record`` into the meta; ``build(arrays, state, meta)`` makes the model.

    An entry is unusable, and retrained with a warning, when its files are corrupt or partial, when they are
    another model's (its meta names another model, settings or data), or when ``build`` fails on them (an
    array missing or of the wrong shape)."""
    belongs = {"name": entry.name, "config": dataclasses.asdict(config), "data_hash": data.data_hash,
               **(record or {})}

    def usable() -> tuple[Model, dict, dict] | str:
        found = slot.read(belongs)
        if isinstance(found, str):
            return found
        arrays, state, meta = found
        try:
            return build(arrays, state, meta), arrays, meta
        except (KeyError, ValueError, RuntimeError, TypeError, IndexError, AttributeError) as e:
            first = str(e).splitlines()[0][:200] if str(e) else ""
            return f"its files do not fit the recipe ({type(e).__name__}: {first})"

    found = "retrain" if retrain else usable()
    if isinstance(found, tuple):
        return found

    def waiting() -> None:
        print(f"lumos.zoo: another process is training {entry.name}; waiting for it ({slot.lock_path})",
              file=sys.stderr)

    with slot.lock(on_wait=waiting):
        if not retrain:  # read again under the lock: another process may have (re)trained it meanwhile
            found = usable()
            if isinstance(found, tuple):
                return found
        if found not in ("not cached", "retrain"):
            warnings.warn(f"the cached {entry.name} in {slot.directory} is unusable: {found}. Retraining it.",
                          RuntimeWarning, stacklevel=3)
        arrays, state, meta = _train(entry, config, data, slot, progress, options, record)
    return build(arrays, state, meta), arrays, meta


def _train(entry, config, data, slot: cache.Slot, progress: bool, options: FitOptions | None = None,
           record: dict[str, Any] | None = None):
    start = time.perf_counter()
    desc = f"training {entry.name}" + (" on given data" if record else "")
    artifact = (entry.train(data, config, desc, progress) if options is None
                else entry.train(data, config, desc, progress, options))
    meta = {"name": entry.name, "recipe_version": entry.version, "config": dataclasses.asdict(config),
            "seed": config.seed, "data_hash": data.data_hash, **(record or {}), "metrics": artifact.metrics,
            **({"training": artifact.record} if artifact.record else {}),
            "train_seconds": round(time.perf_counter() - start, 2), "versions": _versions(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "run_id": uuid.uuid4().hex, "threads": _threads()}
    slot.write(artifact.arrays, artifact.state, meta)
    return artifact.arrays, artifact.state, meta


def _threads() -> int:
    import torch

    return torch.get_num_threads()


def cached_meta(name: str, cache_dir: str | os.PathLike | None = None, **settings: Any) -> dict[str, Any] | None:
    """The metadata of ``name``'s intact cache entry for these settings, or None (nothing is trained)."""
    entry = ZOO.get(name)
    config = entry.configure(settings)
    if entry.train is None or entry.dataset is None:
        return None
    data = entry.dataset()
    key = cache.fingerprint(name=name, version=entry.version, config=config_key(config), data_hash=data.data_hash)
    found = cache.slot(cache.cache_root(cache_dir), name, key).read()
    return found[2] if isinstance(found, tuple) else None

"""``train_on``: a zoo recipe trained on data the caller gives (with optional per-row weights or probabilistic
labels), cached like a zoo model under ``<cache>/custom/<name>/<key>``. The zoo's own entries train on frames in
their data's columns and classes; the ``own/...`` recipes have no data of their own and take the class names
(``labels``) and, for tables, the columns (``schema``) from the caller."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, UnsupportedError
from ..models import Model
from ..registry import ZOO
from . import cache
from .datasets import Dataset
from .loader import cached_training
from .recipe import Artifact
from .splits import SPLITS
from .tables import TableSchema, remeasure
from .training import FitOptions, TrainingDynamics, config_key, without_dynamics

FOLDER = "custom"


def frame_hash(frame: pd.DataFrame) -> str:
    """sha256 of a frame's column names, dtypes and values (array cells by their bytes), index ignored."""
    h = hashlib.sha256()
    for column in frame.columns:
        values = frame[column]
        h.update(f"{column}\x1f{values.dtype}\x1e".encode())
        if values.dtype == object and len(values) and isinstance(values.iloc[0], np.ndarray):
            for v in values:
                h.update(np.ascontiguousarray(v).tobytes())
        else:
            h.update(pd.util.hash_pandas_object(values, index=False).to_numpy().tobytes())
    return h.hexdigest()


def array_hash(a: np.ndarray | None) -> str | None:
    return None if a is None else hashlib.sha256(np.ascontiguousarray(a, dtype=np.float64).tobytes()).hexdigest()


def check_splits(name: str, base: Dataset, splits: Any, label_probs_given: bool) -> dict[str, pd.DataFrame]:
    """The caller's splits in the entry's own columns and order (extra columns dropped), after checking them."""
    if not isinstance(splits, dict) or set(splits) != set(SPLITS):
        got = sorted(splits) if isinstance(splits, dict) else type(splits).__name__
        raise InputError(f"splits must be a dict with exactly the keys {list(SPLITS)} (DataFrames); got {got}.")
    columns = list(base.splits["train"].columns)
    k = len(base.labels)
    out = {}
    for split in SPLITS:
        frame = splits[split]
        if not isinstance(frame, pd.DataFrame):
            raise InputError(f"splits[{split!r}] must be a DataFrame; got {type(frame).__name__}.")
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise InputError(f"splits[{split!r}] lacks the columns {missing} that {name} trains on; it needs "
                             f"{columns} (lumos.zoo.load({name!r})[1][{split!r}] shows the layout).")
        if split != "validation" and len(frame) == 0:
            raise InputError(f"splits[{split!r}] is empty; {name} needs training and test rows.")
        labels = frame["label"].to_numpy()
        if labels.dtype.kind not in "iu" and not (labels.dtype.kind == "f" and np.all(labels == np.round(labels))):
            raise InputError(f"splits[{split!r}]['label'] must hold class indices 0..{k - 1} "
                             f"({', '.join(base.labels)}); got dtype {labels.dtype}.")
        hard_needed = not (split == "train" and label_probs_given)
        if hard_needed and len(labels) and (labels.min() < 0 or labels.max() >= k):
            raise InputError(f"splits[{split!r}]['label'] ranges over {labels.min()}..{labels.max()}; {name} has "
                             f"{k} classes ({', '.join(base.labels)}), so labels must lie in 0..{k - 1}.")
        if "text" in columns and len(frame) and not all(isinstance(t, str) for t in frame["text"]):
            raise InputError(f"splits[{split!r}]['text'] must hold strings only.")
        if "image" in columns and len(frame):
            check_images(split, frame["image"])
        out[split] = frame[columns].astype({"label": np.int64}).reset_index(drop=True)
    return out


def own_base(name: str, modality: str, labels: Any, schema: TableSchema | None) -> Dataset:
    """The stand-in data set of an own-data recipe: no rows, the columns it trains on, the caller's class names
    and (tables) schema."""
    if labels is None:
        raise InputError(f"{name} trains on your data only: pass labels=[class names, by label index].")
    labels = tuple(str(l) for l in labels)
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise InputError(f"labels must name at least two classes, each once; got {list(labels)}.")
    if modality == "tabular" and not isinstance(schema, TableSchema):
        raise InputError(f"{name} needs schema= (a lumos.zoo.TableSchema naming the feature columns); got "
                         f"{type(schema).__name__}.")
    columns = [*schema.features, "label"] if schema is not None else [modality, "label"]
    return Dataset(name, {s: pd.DataFrame(columns=columns) for s in SPLITS}, labels, "", schema)


def check_images(split: str, cells: pd.Series) -> None:
    """Every cell a (C, S, S) float array of one shape (C 1 or 3)."""
    shapes = {np.shape(c) for c in cells}
    ok = len(shapes) == 1 and len(first := next(iter(shapes))) == 3 and first[0] in (1, 3) and first[1] == first[2]
    if not ok or not all(isinstance(c, np.ndarray) and c.dtype.kind == "f" for c in cells):
        raise InputError(f"splits[{split!r}]['image'] must hold float arrays (C, S, S) of one shape, C 1 or 3, "
                         f"values in [0, 1]; got shapes {sorted(shapes)[:3]}. lumos.train reads and resizes image "
                         "files into this form.")


def check_weights(sample_weight: Any, n: int) -> np.ndarray | None:
    """(n,) non-negative finite weights with a positive sum; or None."""
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.shape != (n,):
        raise InputError(f"sample_weight must have one weight per training row, shape ({n},); got {w.shape}.")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise InputError("sample_weight must be finite and non-negative with a positive sum; got "
                         f"min {np.nanmin(w):.3g}, sum {np.nansum(w):.3g}.")
    return w


def check_probs(label_probs: Any, n: int, labels: tuple[str, ...]) -> np.ndarray | None:
    """(n, K) probabilistic labels, each row non-negative summing to 1 (within 1e-4; renormalised); or None."""
    if label_probs is None:
        return None
    p = np.asarray(label_probs, dtype=np.float64)
    if p.shape != (n, len(labels)):
        raise InputError(f"label_probs must be (training rows, classes) = ({n}, {len(labels)}) for the labels "
                         f"{list(labels)}; got shape {p.shape}.")
    sums = p.sum(1)
    if not np.all(np.isfinite(p)) or np.any(p < 0) or np.any(np.abs(sums - 1) > 1e-4):
        bad = int(np.flatnonzero(~np.isfinite(sums) | (np.abs(sums - 1) > 1e-4) | (p < 0).any(1))[0])
        raise InputError(f"each row of label_probs must be non-negative and sum to 1; row {bad} is {p[bad]}.")
    return p / sums[:, None]


def train_on(name: str, splits: dict[str, pd.DataFrame], *, sample_weight: Any = None, label_probs: Any = None,
             dynamics: bool = False, labels: Any = None, schema: TableSchema | None = None, retrain: bool = False,
             cached_only: bool = False, progress: bool = True, cache_dir: str | os.PathLike | None = None,
             **settings: Any
             ) -> tuple[Model, dict[str, pd.DataFrame], dict[str, Any]]:
    """Train the recipe of zoo entry ``name`` on the caller's data; (model, splits, meta).

    splits: "train", "validation", "test" -> DataFrames in the entry's own columns (text: text, label; images:
    image (C, S, S) float32 in [0, 1], label; tables: the raw feature columns, label); extra columns are
    dropped. labels, schema: the class names by label index and (tables) the columns, for the ``own/...``
    recipes, which have no data of their own (``lumos.train`` fills them in). cached_only: load the model
    trained before on exactly this data and these settings, and raise an InputError rather than train it. sample_weight: (N_train,) per-row weights of
    the training loss, as scikit-learn reads them (a weight of 2 counts a row twice, 0 leaves it out of the
    loss; preprocessing such as TF-IDF's idf or a table's scaling is still fitted on every row). label_probs: (N_train, K) probabilistic labels that
    replace the hard training labels (torch recipes: soft cross-entropy; scikit-learn ones: each row once
    per class, weighted by its probability); the training split's ``label`` column is then not used. dynamics:
    record every training row's probabilities per epoch (``model.training_dynamics``; torch recipes and gbm).
    Tables: the schema's categories and ranges are measured on the given training split. The cache key holds
    the recipe version, the settings and hashes of the data, weights and probabilities; ``meta["metrics"]``
    has the validation and test scores.
    """
    entry = ZOO.get(name)
    if entry.train is None:
        raise UnsupportedError(f"{name} is pre-trained and has no training recipe; train_on takes one of "
                               f"{', '.join(n for n, e in ZOO.items() if e.train is not None)}.")
    config = entry.configure(settings)
    if entry.dataset is None:
        base = own_base(name, entry.modality, labels, schema)
    elif labels is not None or schema is not None:
        raise InputError(f"{name} trains on its own classes and columns; labels= and schema= are for the own/... "
                         "recipes (lumos.zoo.own_recipes()).")
    else:
        base = entry.dataset()
    frames = check_splits(name, base, splits, label_probs is not None)
    n = len(frames["train"])
    options = FitOptions(check_weights(sample_weight, n), check_probs(label_probs, n, base.labels), bool(dynamics))
    schema = remeasure(base.schema, frames["train"]) if base.schema is not None else None
    data_hash = hashlib.sha256("".join(frame_hash(frames[s]) for s in SPLITS).encode()).hexdigest()
    data = Dataset(base.name, frames, base.labels, data_hash, schema)
    record = {"trained_on": "given data", "weights_hash": array_hash(options.sample_weight),
              "probs_hash": array_hash(options.label_probs), "dynamics": options.dynamics,
              "rows": {s: len(frames[s]) for s in SPLITS}}
    own = {"labels": list(base.labels), "schema": schema.to_dict() if schema else None} if entry.dataset is None else {}
    key = cache.fingerprint(name=name, version=entry.version, config=config_key(config),
                            data_hash=data_hash, weights=record["weights_hash"], probs=record["probs_hash"],
                            dynamics=options.dynamics, **own)
    slot = cache.slot(cache.cache_root(cache_dir), f"{FOLDER}/{name}", key)
    if cached_only and not isinstance(slot.read(), tuple):
        raise InputError(f"the {name} model trained on this data is not in the cache (looked in {slot.directory}: "
                         f"{slot.read()}). Train it again (lumos.train, or train_on without cached_only).")
    model, arrays, meta = cached_training(
        entry, config, data, slot, retrain, progress, options, record,
        build=lambda a, st, me: entry.build(Artifact(without_dynamics(a), st, me["metrics"]), data, config))
    model.training_dynamics = TrainingDynamics.from_arrays(arrays)  # type: ignore[attr-defined]
    return model, data.copy_splits(), meta

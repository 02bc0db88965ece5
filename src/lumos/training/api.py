"""``lumos.train``: your data in, a lumos model out, with its splits and its training record; ``load`` brings a
trained model back by name or folder, and ``resolve`` takes any model name ``lumos explain``/``bench`` accept."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .. import zoo
from ..errors import InputError
from ..models import Model
from ..params import SEED, Float, Int, Numbers, Optional, Str, check, check_all
from ..registry import did_you_mean
from ..zoo.tables import TableSchema
from . import store
from .checkpoint import check_checkpoint
from .images import read_images, reread
from .result import TrainedModel
from .split import FRACTIONS, SPLITS, given, split, stratified
from .tables import read_table
from .text import read_texts

TASKS = ("image", "text", "table")
BASES = {"image": ("efficientnet_lite0", "cnn"), "text": ("minilm", "tfidf"), "table": ("gbm", "logreg", "mlp")}
IMAGE_SIDE = {"efficientnet_lite0": 224, "cnn": 64}  # the largest default side images are resized to


def infer_task(data: Any, task: str | None, text_column: str, path_column: str) -> str:
    """The task named, or the one the data implies: a folder holds images; a table with a text column holds
    texts, one with a path column images, anything else is a table."""
    if task is not None:
        aliases = {"images": "image", "texts": "text", "tables": "table", "tabular": "table"}
        task = aliases.get(task, task)
        if task not in TASKS:
            raise did_you_mean(task, list(TASKS), "task")
        return task
    if not isinstance(data, pd.DataFrame):
        path = Path(data).expanduser()
        if path.is_dir():
            return "image"
        from .files import read_frame

        data = read_frame(path)
    columns = [str(c) for c in data.columns]
    return "text" if text_column in columns else "image" if path_column in columns else "table"


def resolve_base(task: str, base: str | None) -> tuple[str, str, dict[str, Any]]:
    """(recipe, base name for the record, settings the base implies). A text base may be the folder of a local
    Hugging Face checkpoint: MiniLM's recipe fine-tunes it."""
    base = base or BASES[task][0]
    if base in BASES[task]:
        return f"own/{task}/{base}", base, {}
    if task == "text" and ("/" in base or os.sep in base or Path(base).expanduser().exists()):
        path = check_checkpoint(base)
        return "own/text/minilm", str(path), {"checkpoint": str(path)}
    hint = " or the folder of a local Hugging Face checkpoint" if task == "text" else ""
    raise did_you_mean(base, list(BASES[task]), "base",
                       head=f"no {task} base {base!r}: choose {', '.join(BASES[task])}{hint}")


def default_name(data: Any, task: str, base: str) -> str:
    """The data's folder or file name, made a valid model name; ``<task>-<base>`` for a DataFrame."""
    stem = f"{task}-{Path(base).name}" if isinstance(data, pd.DataFrame) else Path(data).expanduser().resolve().stem
    return re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._")[:64] or task


def train(data: str | os.PathLike | pd.DataFrame, task: str | None = None, base: str | None = None, *,
          name: str | None = None, label_column: str = "label", text_column: str = "text",
          path_column: str = "path", split_column: str | None = None, categorical: Sequence[str] | str | None = None,
          immutable: Sequence[str] | str = (), protected: Sequence[str] | str = (), drop: Sequence[str] | str = (),
          size: int | None = None, skip_bad: bool = False, fractions: Sequence[float] = FRACTIONS, seed: int = 0,
          retrain: bool = False, progress: bool = True, cache_dir: str | os.PathLike | None = None,
          **settings: Any) -> TrainedModel:
    """Train a classifier on your data and cache it under ``name``; a TrainedModel (``model, splits = ...``).

    data: images (a folder with one sub-folder per class, or a CSV of ``path_column`` and ``label_column``),
    texts (a CSV / JSON Lines / Parquet file or a DataFrame with ``text_column`` and ``label_column``) or a table
    (a CSV / Parquet file or a DataFrame with ``label_column``; every other column a feature unless in ``drop``).
    task: "image", "text" or "table" (default: what the data implies). base: images "efficientnet_lite0"
    (transfer learning; default) or "cnn" (from scratch); text "minilm" (fine-tuned; default), "tfidf" or the
    folder of a local Hugging Face checkpoint; tables "gbm" (default), "logreg" or "mlp".
    Splits: stratified by class, ``fractions`` of train / validation / test with ``seed`` (which also seeds the
    training), or the user's own ``split_column`` (train / validation / test). Images are resized to ``size``
    pixels square (default: their median side, at most 224 for EfficientNet and 64 for the CNN); ``skip_bad``
    leaves out files that do not decode rather than stopping. Tables: ``categorical`` forces columns to be
    categories, ``immutable``/``protected`` go into ``model.schema``. settings: the recipe's own (epochs, lr,
    patience, finetune, blocks, augment, resolution, ...; ``lumos.catalog("zoo")["own/image/cnn"]["params"]``
    lists each recipe's). The same data and settings load the cached model instead of training again
    (``retrain`` trains anew).
    """
    started = time.perf_counter()
    _check_arguments(data, name, label_column, text_column, path_column, split_column, drop, size, fractions, seed,
                     cache_dir)
    task = infer_task(data, task, text_column, path_column)
    recipe, base_name, implied = resolve_base(task, base)
    _check_settings(recipe, settings)
    name = store.check_name(name or default_name(data, task, base_name))
    extra = (split_column,) if split_column else ()
    schema: TableSchema | None = None
    if task == "image":
        if split_column:
            raise InputError("split_column is for texts and tables; images are split by class with fractions=.")
        read = read_images(data, label_column=label_column, path_column=path_column, size=size,
                           channels=3 if base_name == "efficientnet_lite0" else None,
                           max_size=IMAGE_SIDE[base_name], skip_bad=skip_bad, progress=progress)
    elif task == "text":
        read = read_texts(data, text_column=text_column, label_column=label_column, extra=extra)
    else:
        read = read_table(data, label_column=label_column, categorical=categorical, immutable=immutable,
                          protected=protected, drop=drop, extra=extra)
        schema = read.schema
    frame, labels = read.frame, read.labels
    assignment = (given(frame[split_column], split_column) if split_column
                  else stratified(frame["label"].to_numpy(), labels, fractions, seed))
    splits = split(frame, assignment)
    recipe_settings = {**implied, **settings, "seed": seed}
    model, out, meta = zoo.train_on(recipe, splits, labels=labels, schema=schema, retrain=retrain, progress=progress,
                                    cache_dir=cache_dir, **recipe_settings)
    if task == "image":
        for s in SPLITS:
            out[s]["path"] = splits[s]["path"].to_numpy()
    record = _record(name, task, base_name, recipe, data, labels, splits, read.info, schema, recipe_settings,
                     meta, fractions, seed, split_column, model)
    record["seconds"] = round(time.perf_counter() - started, 2)
    rows = frame.drop(columns=["image"], errors="ignore").assign(split=assignment)
    if split_column:
        rows = rows.drop(columns=[split_column])
    store.save(name, record, rows, cache_dir)
    return TrainedModel(model, out, record, _params(record))


def _check_arguments(data, name, label_column, text_column, path_column, split_column, drop, size, fractions, seed,
                     cache_dir) -> None:
    """An InputError naming the first argument of ``train`` that cannot be right, before anything is read."""
    if not isinstance(data, (str, os.PathLike, pd.DataFrame)):
        raise InputError(f"train: data must be a file or folder path or a DataFrame; got {type(data).__name__}.")
    check_all("train", [("name", name, Optional(Str())), ("label_column", label_column, Str()),
                        ("text_column", text_column, Str()), ("path_column", path_column, Str()),
                        ("split_column", split_column, Optional(Str())), ("size", size, Optional(Int(low=1))),
                        ("fractions", fractions, Numbers(low=0, high=1, length=3)), ("seed", seed, SEED)])
    if label_column in ([drop] if isinstance(drop, str) else list(drop)):
        raise InputError(f"train: drop= names the label column {label_column!r}; a model needs its labels.")
    if cache_dir is not None and Path(cache_dir).expanduser().exists() and not Path(cache_dir).expanduser().is_dir():
        raise InputError(f"train: cache_dir {str(cache_dir)!r} is a file, not a folder.")


# settings a recipe may set to 0 (no early stopping, no decay, no kept checkpoints...); every other numeric
# setting whose default is positive must stay positive
MAY_BE_ZERO = ("patience", "weight_decay", "warmup", "shift", "keep_checkpoints")


def _check_settings(recipe: str, settings: dict[str, Any]) -> None:
    """Each numeric recipe setting: None or finite, an int where the default is an int, positive where it must be."""
    from ..registry import ZOO

    defaults = ZOO.get(recipe).info()["params"]
    for key, value in settings.items():
        default = defaults.get(key)
        if isinstance(default, bool) or not isinstance(default, (int, float)):
            continue
        low, open_ = (0, key not in MAY_BE_ZERO) if default > 0 else (None, False)
        rule = Int(low=low + (1 if open_ else 0)) if isinstance(default, int) and low is not None else (
            Int() if isinstance(default, int) else Float(low=low, low_open=open_))
        check(f"train ({recipe})", key, value, Optional(rule))  # None: the recipe's "off" (e.g. patience)


def _record(name, task, base, recipe, data, labels, splits, info, schema, settings, meta, fractions, seed,
            split_column, model) -> dict[str, Any]:
    """The training record: what was trained on what, how, and how well."""
    counts = {s: {labels[k]: int(n) for k, n in zip(*np.unique(f["label"], return_counts=True))}
              for s, f in splits.items()}
    training = meta.get("training", {})
    checkpoints = model.training_checkpoints
    return {
        "name": name, "task": task, "base": base, "recipe": recipe,
        "source": "a DataFrame" if isinstance(data, pd.DataFrame) else str(Path(data).expanduser().resolve()),
        "labels": list(labels), "rows": {s: len(f) for s, f in splits.items()}, "class_counts": counts,
        "split": {"fractions": list(fractions) if not split_column else None, "seed": seed, "column": split_column,
                  "stratified": not split_column},
        "reader": info, "schema": schema.to_dict() if schema is not None else None, "settings": settings,
        "config": meta["config"], "metrics": meta["metrics"], "training": training,
        "tracin_checkpoints": len(checkpoints.states) if checkpoints is not None else 0, "data_hash": meta["data_hash"], "versions": meta["versions"],
        "train_seconds": meta["train_seconds"], "threads": meta.get("threads"), "created": meta["created"],
        "run_id": meta["run_id"],
    }


def _params(record: dict[str, Any]) -> dict[str, Any]:
    reader = {k: v for k, v in record["reader"].items() if k in ("size", "channels", "text_column", "label_column",
                                                                  "categorical", "dropped")}
    return {"task": record["task"], "base": record["base"], "recipe": record["recipe"], **record["config"],
            **reader, "split": record["split"]}


def schema_from(record: dict[str, Any]) -> TableSchema | None:
    d = record.get("schema")
    if d is None:
        return None
    tuples = {k: tuple(d[k]) for k in ("features", "categorical", "integer", "immutable", "protected")}
    return TableSchema(**{**d, **tuples, "categories": {k: tuple(v) for k, v in d["categories"].items()},
                          "ranges": {k: tuple(v) for k, v in d["ranges"].items()}})


def load(name: str | os.PathLike, *, cache_dir: str | os.PathLike | None = None) -> TrainedModel:
    """A model trained with ``lumos.train``, by name (``names()``) or by its folder; nothing is trained (an
    InputError says so when its weights have left the cache)."""
    where = store.locate(name, cache_dir)
    if where is None:
        raise store.unknown(str(name), [], cache_dir)
    record, rows = store.read(where)
    frame = rows.drop(columns=["split"])
    if record["task"] == "image":
        images = reread(frame["path"].tolist(), record["reader"]["size"], record["reader"]["channels"])
        frame = frame.assign(image=images)[["image", "label", "path"]]
    splits = split(frame, rows["split"].to_numpy(dtype=object))
    model, out, _ = zoo.train_on(record["recipe"], splits, labels=record["labels"], schema=schema_from(record),
                                 cached_only=True, progress=False, cache_dir=cache_dir, **record["settings"])
    if record["task"] == "image":
        for s in SPLITS:
            out[s]["path"] = splits[s]["path"].to_numpy()
    return TrainedModel(model, out, record, _params(record))


def names(cache_dir: str | os.PathLike | None = None) -> list[str]:
    """The models trained with ``lumos.train`` in the cache."""
    return store.names(cache_dir)


def modality_of(splits: dict[str, pd.DataFrame]) -> str:
    """"image", "text" or "tabular", from the columns of a model's splits (as the zoo lays them out)."""
    frame = next(iter(splits.values()))
    return "image" if "image" in frame.columns else "text" if "text" in frame.columns else "tabular"


def resolve(name: str, cache_dir: str | os.PathLike | None = None) -> tuple[Model, dict[str, pd.DataFrame]]:
    """(model, splits) for any model name the CLI takes: a zoo name, a trained model's name, or its folder."""
    if name in zoo.names():
        return zoo.load(name) if cache_dir is None else zoo.load(name, cache_dir=cache_dir)
    if store.locate(name, cache_dir) is None:
        raise store.unknown(name, zoo.names(), cache_dir)
    trained = load(name, cache_dir=cache_dir)
    return trained.model, trained.splits

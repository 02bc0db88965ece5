"""``TrainedModel``: what ``lumos.train`` returns: the model, its splits and its training record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
import pandas as pd

from ..models import Model
from ..results import Result


@dataclass
class TrainedModel(Result):
    """``model``: a lumos Model (``lumos.explain`` takes it); ``splits``: "train", "validation", "test" ->
    DataFrame (images: image (C, S, S), label, path; text: text, label; tables: the feature columns, label);
    ``record``: the training record (metrics, data hash, settings, library versions, early stopping, where it
    came from), also in ``<cache>/trained/<name>/record.json``; ``params``: every resolved setting.

    ``model, splits = lumos.train(...)`` unpacks it like ``lumos.zoo.load``."""

    model: Model
    splits: dict[str, pd.DataFrame]
    record: dict[str, Any]
    params: dict[str, Any]

    @property
    def name(self) -> str:
        """The name ``lumos explain --model`` and ``lumos bench --model`` take."""
        return self.record["name"]

    @property
    def labels(self) -> list[str]:
        return list(self.record["labels"])

    def __iter__(self) -> Iterator[Any]:
        return iter((self.model, self.splits))

    def to_frame(self) -> pd.DataFrame:
        """One row per split: rows, and accuracy and ROC AUC (two classes) where measured."""
        rows = []
        for split, n in self.record["rows"].items():
            scores = self.record["metrics"].get(split, {})
            rows.append({"split": split, "rows": n, "accuracy": scores.get("accuracy", np.nan),
                         "auc": scores.get("auc", np.nan)})
        return pd.DataFrame(rows).set_index("split")

    def summary(self) -> dict[str, Any]:
        metrics = self.record["metrics"]
        out = {"name": self.name, "task": self.record["task"], "base": self.record["base"],
               "classes": len(self.record["labels"]), "train_rows": self.record["rows"]["train"],
               "validation_accuracy": metrics.get("validation", {}).get("accuracy"),
               "test_accuracy": metrics.get("test", {}).get("accuracy"),
               "train_seconds": self.record.get("train_seconds")}
        if "auc" in metrics.get("test", {}):
            out["test_auc"] = metrics["test"]["auc"]
        if "best_epoch" in self.record.get("training", {}):
            out["best_epoch"] = self.record["training"]["best_epoch"]
        return out

    def __repr__(self) -> str:
        s = self.summary()
        val = "-" if s["validation_accuracy"] is None else f"{s['validation_accuracy']:.3f}"
        test = "-" if s["test_accuracy"] is None else f"{s['test_accuracy']:.3f}"
        return (f"TrainedModel({s['name']!r}: {s['task']} / {s['base']}, {s['classes']} classes, "
                f"{s['train_rows']} training rows, validation accuracy {val}, test accuracy {test})")

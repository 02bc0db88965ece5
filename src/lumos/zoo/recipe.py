"""What a zoo entry is made of: a dataset, a config, and either a trainer plus a builder, or a builder of a
pre-trained model. Trainers return an Artifact: everything needed to rebuild the model, as arrays and JSON."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..errors import InputError
from ..models.base import Model
from .datasets import Dataset
from .training import Config


@dataclass
class Artifact:
    """``arrays``: name -> array (the weights); ``state``: JSON-ready settings needed to rebuild;
    ``metrics``: split -> metric -> value; ``record``: how the training went, for the training record (early
    stopping's epochs and validation losses, ...; empty when there is nothing to say)."""

    arrays: dict[str, np.ndarray]
    state: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    record: dict[str, Any] = field(default_factory=dict)


Trainer = Callable[..., Artifact]  # (data, config, description, progress, options: FitOptions | None) -> Artifact
Builder = Callable[["Artifact | None", Dataset, Any], Model]  # (artifact or None if pre-trained, data, config)


@dataclass(frozen=True)
class Entry:
    """One zoo name. ``version`` is part of the cache key: bump it when the recipe's code changes its output.
    ``dataset`` None: a recipe for your own data only (``own/...``; ``lumos.train`` and ``zoo.train_on``)."""

    name: str
    summary: str
    dataset: Callable[[], Dataset] | None
    config: Config
    build: Builder
    train: Trainer | None = None
    version: str = "1"
    modality: str = ""

    def configure(self, overrides: dict[str, Any]) -> Config:
        """The entry's config with ``overrides`` applied; unknown keys are an error naming the known ones."""
        known = [f.name for f in dataclasses.fields(self.config)]
        unknown = [k for k in overrides if k not in known]
        if unknown:
            raise InputError(f"{self.name} has no setting {unknown[0]!r}; its settings: "
                             + ", ".join(f"{k}={getattr(self.config, k)!r}" for k in known) + ".")
        if self.train is None and overrides:
            raise InputError(f"{self.name} is pre-trained and takes no training settings; got {sorted(overrides)}.")
        return dataclasses.replace(self.config, **overrides)

    def info(self) -> dict[str, Any]:
        return {"summary": self.summary, "modalities": (self.modality,),
                "params": dataclasses.asdict(self.config), "requires": (), "pretrained": self.train is None,
                "own_data": self.dataset is None}


def prefixed(prefix: str, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {f"{prefix}{k}": v for k, v in arrays.items()}


def unprefixed(prefix: str, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}

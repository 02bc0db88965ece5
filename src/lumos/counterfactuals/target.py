"""The model's outputs on encoded rows and what counts as reaching the desired outcome.

Classifiers (anything ``lumos.wrap`` takes) give probabilities; the desired outcome is a class. Regressors (an
object with ``predict`` on a DataFrame and no ``predict_proba``) give one number per row; the desired outcome
is a range (low, high).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError, ModelError
from ..models import Model, wrap
from .space import FeatureSpace


def is_regressor(model: Any) -> bool:
    return not isinstance(model, Model) and hasattr(model, "predict") and not hasattr(model, "predict_proba")


class Predictor:
    """Batched model outputs on (N, F) codes, counted: ``rows`` evaluated and ``calls`` made."""

    def __init__(self, model: Any, space: FeatureSpace):
        self.regression = is_regressor(model)
        self.model = model if self.regression else wrap(model)
        self.space = space
        self.rows = 0
        self.calls = 0

    def outputs(self, z: np.ndarray) -> np.ndarray:
        """(N, F) codes -> (N, K) probabilities, or (N,) values for a regressor; one batched model call."""
        self.rows += len(z)
        self.calls += 1
        if self.regression:
            out = np.asarray(self.model.predict(self.space.decode(z)), dtype=np.float64).reshape(len(z), -1)
            if out.shape[1] != 1:
                raise ModelError(f"a regressor must return one value per row; got shape {out.shape}.")
            return out[:, 0]
        with self.model.session():
            return self.model.evaluate(self.space.model_rows(z))


@dataclass(frozen=True)
class Target:
    """The desired outcome. ``index``: the desired class (classifiers); ``low``/``high``: the desired range
    (regressors). ``label``: how it reads."""

    label: str
    index: int | None = None
    low: float = -np.inf
    high: float = np.inf

    @classmethod
    def resolve(cls, desired: Any, predictor: Predictor, x_output: np.ndarray) -> "Target":
        """``desired``: a class label or index (None: the other class of a binary classifier), or (low, high)
        for a regressor; ``x_output``: the model's output on the query row."""
        if predictor.regression:
            if not (isinstance(desired, (tuple, list)) and len(desired) == 2):
                raise InputError(f"a regressor needs target=(low, high), the range its output should reach; got "
                                 f"{desired!r}.")
            lo = -np.inf if desired[0] is None else float(desired[0])
            hi = np.inf if desired[1] is None else float(desired[1])
            if lo > hi:
                raise InputError(f"target=({lo:g}, {hi:g}) is empty: low is above high.")
            return cls(label=f"[{lo:g}, {hi:g}]", low=lo, high=hi)
        labels = predictor.model.labels or [str(k) for k in range(x_output.shape[-1])]
        if desired is None:
            if len(labels) != 2:
                raise InputError(f"the model has {len(labels)} classes ({labels}); say which one with target=.")
            index = 1 - int(np.argmax(x_output))
        elif isinstance(desired, (int, np.integer)) and not isinstance(desired, bool):
            index = int(desired)
            if not 0 <= index < len(labels):
                raise InputError(f"desired class {index} is out of range for a model with {len(labels)} classes "
                                 f"(labels: {', '.join(labels)}).")
        elif str(desired) in labels:
            index = labels.index(str(desired))
        else:
            raise InputError(f"target={desired!r} is not one of the model's classes: {labels} (or their indices).")
        return cls(label=labels[index], index=index)

    def margin(self, outputs: np.ndarray) -> np.ndarray:
        """(N, K) probabilities or (N,) values -> (N,) margin, > 0 exactly when the desired outcome is reached
        (classifier: p(desired) - max other p; regressor: distance inside the range, +1e-12)."""
        if self.index is None:
            return np.minimum(outputs - self.low, self.high - outputs) + 1e-12
        others = np.delete(outputs, self.index, axis=1)
        return outputs[:, self.index] - others.max(axis=1)

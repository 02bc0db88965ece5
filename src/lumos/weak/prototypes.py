"""A zero-shot classifier from a sentence encoder: each class is the mean embedding of a few phrases that
describe it, and a text goes to the class it is closest to (cosine), relative to how close unlabeled texts of
the task are on average. Wrapped as a lumos model, so ``model_lf`` turns it into an LF."""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..errors import InputError

Encoder = Callable[[list[str]], np.ndarray]  # texts -> (B, D) embeddings


def prototype_model(encode: Encoder, prototypes: Mapping[str, Sequence[str]], *,
                    calibration: Sequence[str] | None = None, scale: float = 20.0) -> Any:
    """A lumos text model over the classes of ``prototypes`` (class -> describing phrases).

    p(class | text) = softmax(scale x (cos(text, prototype) - mean cos over ``calibration`` texts)); without
    calibration texts nothing is subtracted. ``encode``: texts -> (B, D) embeddings (e.g. a sentence
    encoder's mean-pooled hidden states), called once per batch.
    """
    from ..models import wrap

    classes = [str(c) for c in prototypes]
    if len(classes) < 2 or any(not len(p) for p in prototypes.values()):
        raise InputError("prototypes needs at least two classes, each with at least one phrase.")
    centres = np.stack([_unit(np.asarray(encode(list(p)), dtype=np.float64)).mean(0) for p in prototypes.values()])
    centres = _unit(centres)
    baseline = np.zeros(len(classes))
    if calibration is not None:
        if not len(calibration):
            raise InputError("calibration needs at least one text (or None).")
        baseline = (_unit(np.asarray(encode(list(calibration)), dtype=np.float64)) @ centres.T).mean(0)

    def probs(texts: list[str]) -> np.ndarray:
        logits = scale * (_unit(np.asarray(encode(list(texts)), dtype=np.float64)) @ centres.T - baseline)
        e = np.exp(logits - logits.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    return wrap(probs, labels=classes)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)

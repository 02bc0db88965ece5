"""``lumos.explain``: from (model, inputs, method) to a batch of Explanations."""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import numpy as np

from . import registry
from .errors import InputError, UnsupportedError
from .explainers.base import Explainer
from .explanation import Explanation, Explanations
from .models import Model, wrap


def explain(model: Any, inputs: Any, method: str = "integrated_gradients", target: Any = None, seed: int = 0,
            granularity: str = "word", batch_size: int | str | None = None, **params: Any) -> Explanations:
    """Explain the model's output for ``target`` (None: the predicted class) on each input.

    inputs: a list of strings, an array (B, C, H, W), or an array/DataFrame (B, F).
    params: the method's hyper-parameters (``lumos.methods()[method]["params"]`` lists them).
    """
    model = wrap(model)
    explainer = _build(registry.get(method, "explainer"), params)
    return run_explainer(model, explainer, inputs, target, seed, granularity, batch_size)


def run_explainer(model: Model, explainer: Explainer, inputs: Any, target: Any = None, seed: int = 0,
                  granularity: str = "word", batch_size: int | str | None = None) -> Explanations:
    """``explain`` with a built explainer (metrics use it to re-explain perturbed inputs or models)."""
    cls = type(explainer)
    batch = model.prepare(inputs, granularity)  # type: ignore[arg-type]
    _check_supported(cls, model, batch.modality)
    saved_batch_size = model.sizer.batch_size
    if batch_size is not None:
        model.sizer.batch_size = batch_size
    try:
        with model.session():
            probs = model.evaluate(batch.rows())
            targets = resolve_targets(target, probs, model.labels)
            groups = model.gradient_groups(batch) if "gradients" in cls.requires else [np.arange(len(batch))]
            results: list = [None] * len(batch)
            for idx in groups:
                part = batch if len(idx) == len(batch) else batch.subset(idx)
                for i, res in zip(idx, explainer.attribute(model, part, targets[idx], probs[idx], int(seed))):
                    results[i] = res
    finally:
        model.sizer.batch_size = saved_batch_size
    resolved = {f.name: recordable(getattr(explainer, f.name)) for f in dataclasses.fields(explainer)}
    resolved["seed"] = int(seed)
    if batch.modality == "text":
        resolved["granularity"] = granularity
    items = []
    for i, res in enumerate(results):
        extras = dict(res.extras)
        doc = batch.docs[i] if batch.docs is not None else None
        if doc is not None and doc.truncated_words:
            extras["truncated"] = (f"input longer than the model's maximum of {model.max_length} tokens: "  # type: ignore[attr-defined]
                                   f"the last {doc.truncated_words} words were cut and get no attribution")
        features = doc.features if doc is not None else batch.feature_names
        t = int(targets[i])
        items.append(Explanation(
            attributions=np.asarray(res.values, dtype=np.float32), features=list(features) if features else None,
            target=t, probs=probs[i].astype(np.float32), method=cls.name, params=resolved, extras=extras,
            label=model.labels[t] if model.labels else None))
    return Explanations(items, explainer=explainer, granularity=granularity, seed=int(seed))


def methods() -> dict[str, dict[str, Any]]:
    """Every registered explanation method with its metadata and default hyper-parameters."""
    return registry.describe("explainer")


def resolve_targets(target: Any, probs: np.ndarray, labels: Sequence[str] | None) -> np.ndarray:
    """None -> argmax per example; an int or a label -> that class for all; a sequence -> one per example."""
    b, k = probs.shape
    if target is None:
        return probs.argmax(1)
    if isinstance(target, str) or np.isscalar(target):
        target = [target] * b
    target = list(np.asarray(target).reshape(-1)) if not isinstance(target, (list, tuple)) else list(target)
    if len(target) != b:
        raise InputError(f"got {len(target)} targets for {b} inputs; pass one int, or one per input.")
    out = np.empty(b, dtype=np.int64)
    for i, t in enumerate(target):
        if isinstance(t, str):
            if not labels or t not in labels:
                raise InputError(f"target {t!r} is not a label of the model (labels: {', '.join(labels or [])}).")
            t = labels.index(t)
        if not float(t).is_integer() or not 0 <= int(t) < k:
            named = f" (labels: {', '.join(labels)})" if labels else ""
            raise InputError(f"target {t} is out of range for a model with {k} classes{named}.")
        out[i] = int(t)
    return out


def recordable(value: Any) -> Any:
    """Parameters as plain values for the record: arrays, frames and tensors become a short description."""
    shape = getattr(value, "shape", None)
    if shape is not None and not np.isscalar(value):
        return f"<{type(value).__name__} of shape {tuple(shape)}>"
    return value


def _build(cls: type[Explainer], params: dict[str, Any]) -> Explainer:
    registry.check_params(cls.name, params, cls.param_names())
    try:
        return cls(**params)
    except (TypeError, ValueError) as e:
        raise InputError(f"bad parameters for {cls.name}: {e}") from None


def _check_supported(cls: type[Explainer], model: Model, modality: str) -> None:
    if modality not in cls.modalities:
        others = [n for n, c in _classes() if modality in c.modalities]
        raise UnsupportedError(f"{cls.name} does not apply to {modality} inputs; methods that do: "
                               f"{', '.join(others)}.")
    if not cls.applies_to(model, modality):
        others = ", ".join(registry.EXPLAINERS.select(modality, model))
        missing = sorted(set(cls.requires) - model.capabilities)
        why = ("needs gradients, and {m} gives none (a black box or scikit-learn model)" if "gradients" in missing
               else "cannot run on {m}").format(m=type(model).__name__)
        raise UnsupportedError(f"{cls.name} {why}. Methods that work on it: {others}. ({cls.name} needs the model "
                               f"capabilities {', '.join(missing)}: see lumos.models.CAPABILITIES.)")


def _classes() -> list[tuple[str, type[Explainer]]]:
    return registry.EXPLAINERS.items()

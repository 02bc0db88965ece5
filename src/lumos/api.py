"""``lumos.explain``: from (model, inputs, method) to a batch of Explanations."""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any, Sequence

import numpy as np

from . import registry
from .errors import InputError, LumosWarning, UnsupportedError
from .explainers.base import Explainer
from .explanation import Explanation, Explanations
from .models import Model, wrap
from .params import SEED, AnyOf, Choice, Int, Optional, check_all
from .progress import ProgressArg, run_chunked

BATCH_SIZE = Optional(AnyOf(Choice("auto"), Int(low=1)))


def explain(model: Any, inputs: Any, method: str = "integrated_gradients", target: Any = None, seed: int = 0,
            granularity: str = "word", batch_size: int | str | None = None, progress: ProgressArg = None,
            **params: Any) -> Explanations:
    """Explain the model's output for ``target`` (None: the predicted class) on each input.

    inputs: a list of strings, an array (B, C, H, W), or an array/DataFrame (B, F).
    params: the method's hyper-parameters (``lumos.methods()[method]["params"]`` lists them).
    progress: None shows a bar only when the work turns out long, True always, False never, or a callable
    ``f(done, total)`` (``lumos.progress``). Explanations that rank nothing (all zero or constant) raise a
    ``LumosWarning``; ``Explanations.degenerate`` marks them and ``Scores.mean()`` leaves them out.
    """
    check_all("explain", [("seed", seed, SEED), ("granularity", granularity, Choice("word", "token")),
                          ("batch_size", batch_size, BATCH_SIZE)])
    model = wrap(model)
    explainer = _build(registry.get(method, "explainer"), params)
    out = run_explainer(model, explainer, inputs, target, seed, granularity, batch_size, progress)
    flat = np.flatnonzero(out.degenerate)
    if len(flat):
        shown = ", ".join(map(str, flat[:10])) + (", ..." if len(flat) > 10 else "")
        warnings.warn(f"{method} returned all-zero or constant attributions for {len(flat)} of {len(out)} inputs "
                      f"({shown}): they rank nothing, so metrics on them are meaningless. "
                      "Explanations.degenerate marks them; Scores.mean() and the report leave them out.",
                      LumosWarning, stacklevel=2)
    return out


def run_explainer(model: Model, explainer: Explainer, inputs: Any, target: Any = None, seed: int = 0,
                  granularity: str = "word", batch_size: int | str | None = None,
                  progress: ProgressArg = False) -> Explanations:
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
            results: list = [None] * len(batch)

            def work(lo: int, hi: int) -> None:  # examples lo..hi-1 (results do not depend on the batch)
                piece = batch if (lo, hi) == (0, len(batch)) else batch.subset(range(lo, hi))
                groups = model.gradient_groups(piece) if "gradients" in cls.requires else [np.arange(len(piece))]
                for idx in groups:
                    part = piece if len(idx) == len(piece) else piece.subset(idx)
                    for i, res in zip(idx, explainer.attribute(model, part, targets[lo + idx], probs[lo + idx],
                                                               int(seed))):
                        results[lo + i] = res

            run_chunked(len(batch), work, progress, f"explain {cls.name}")
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
        base = extras.get("base_value", extras.get("f_baseline"))
        items.append(Explanation(
            attributions=np.asarray(res.values, dtype=np.float32), features=list(features) if features else None,
            target=t, probs=probs[i].astype(np.float32), method=cls.name, params=resolved, extras=extras,
            label=model.labels[t] if model.labels else None, data=batch.x[i] if batch.x is not None else None,
            base_value=float(base) if base is not None else None))
    return Explanations(items, explainer=explainer, granularity=granularity, seed=int(seed))


def methods() -> dict[str, dict[str, Any]]:
    """Every registered explanation method with its metadata and default hyper-parameters."""
    return registry.describe("explainer")


def resolve_targets(target: Any, probs: np.ndarray, labels: Sequence[str] | None, what: str = "target",
                    broadcast: bool = True) -> np.ndarray:
    """None -> argmax per example; an int or a label -> that class for all (when ``broadcast``); a sequence ->
    one per example. Label names become their class index; anything else raises an InputError naming
    ``what`` (e.g. "target", "label")."""
    b, k = probs.shape
    if target is None:
        return probs.argmax(1)
    if hasattr(target, "detach"):
        target = target.detach().cpu().numpy()
    if isinstance(target, str) or np.isscalar(target):
        if not broadcast:
            raise InputError(f"{what}s must be a list with one per input; got {target!r}.")
        target = [target] * b
    target = list(np.asarray(target).reshape(-1)) if not isinstance(target, (list, tuple)) else list(target)
    if len(target) != b:
        one = "one int, or one per input" if broadcast else "one per input"
        raise InputError(f"got {len(target)} {what}s for {b} inputs; pass {one}.")
    named = f" (labels: {', '.join(labels)})" if labels else ""
    out = np.empty(b, dtype=np.int64)
    for i, t in enumerate(target):
        if isinstance(t, (str, np.str_)):
            if not labels or str(t) not in labels:
                raise InputError(f"{what} {t!r} is not a label of the model{named or ' (it has no label names)'}.")
            t = labels.index(str(t))
        if isinstance(t, (bool, np.bool_)) or not isinstance(t, (int, float, np.integer, np.floating)) \
                or not np.isfinite(t) or not float(t).is_integer():
            raise InputError(f"{what} {t!r} at position {i} is not a class index or a label name{named}.")
        if not 0 <= int(t) < k:
            raise InputError(f"{what} {t} is out of range for a model with {k} classes{named}.")
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
    return cls(**params)  # the base class checks each value against its declared constraint


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

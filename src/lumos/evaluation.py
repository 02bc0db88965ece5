"""``lumos.evaluate``: score explanations with registered metrics, one score per example."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np

from . import registry
from .api import recordable, explain, run_explainer
from .errors import InputError, UnsupportedError
from .explanation import Explanations
from .metrics.base import EvalContext, Metric
from .models import wrap
from .rationales import from_spans


class Scores(dict):
    """metric name -> (B,) per-example scores; ``details[name]`` holds per-metric extras (curves, per-bin
    values, precision/recall, per-layer correlations), ``info[name]`` the metric's metadata and
    ``params[name]`` its resolved parameters (``params["seed"]`` the seed)."""

    def __init__(self) -> None:
        super().__init__()
        self.details: dict[str, dict[str, Any]] = {}
        self.info: dict[str, dict[str, Any]] = {}
        self.params: dict[str, Any] = {}

    def summary(self) -> dict[str, float]:
        """The mean of each metric over the examples (NaN-aware)."""
        return self.mean()

    def to_frame(self):
        """A pandas DataFrame: one row per example, one column per metric."""
        import pandas as pd

        return pd.DataFrame({k: np.asarray(v) for k, v in self.items()})

    def mean(self) -> dict[str, float]:
        return {k: float(np.nanmean(v)) if np.isfinite(v).any() else float("nan") for k, v in self.items()}


def evaluate(model: Any, inputs: Any, explanations: Explanations,
             metrics: Iterable[str | tuple[str, dict]] | Mapping[str, dict] = ("comprehensiveness", "sufficiency"),
             rationales: Any = None, seed: int = 0, cache: dict | None = None) -> Scores:
    """Score ``explanations`` of ``inputs`` with ``metrics`` (names, (name, params) pairs, or a dict).

    rationales: per example a boolean array over the explanation's features (images: (H, W)), or a list of
    (start, end) word spans (ERASER evidence).
    cache: a dict to share method-independent work (leave-one-out) between calls on the SAME inputs and model,
    e.g. when evaluating several methods' explanations of one batch.
    """
    model = wrap(model)
    ctx = context(model, inputs, explanations, rationales, seed, cache)
    out = Scores()
    out.params["seed"] = int(seed)
    for name, params in _specs(metrics):
        metric = _build(name, params)
        if ctx.batch.modality not in metric.modalities:
            raise UnsupportedError(f"{name} does not apply to {ctx.batch.modality} explanations; metrics that do: "
                                   f"{', '.join(registry.METRICS.select(ctx.batch.modality))}.")
        values, details = score(metric, ctx)
        out[name] = values
        out.details[name] = details
        out.info[name] = type(metric).info()
        out.params[name] = {f: recordable(getattr(metric, f)) for f in metric.param_names()}
    return out


def context(model: Any, inputs: Any, explanations: Explanations, rationales: Any = None, seed: int = 0,
            cache: dict | None = None) -> EvalContext:
    """What a metric reads: the prepared inputs, checked against the explanations, and the rationale masks."""
    model = wrap(model)
    batch = model.prepare(inputs, explanations.granularity)  # type: ignore[arg-type]
    _check_alignment(batch, explanations)
    return EvalContext(model, batch, explanations, _rationale_masks(rationales, explanations), int(seed),
                       cache if cache is not None else {}, run=run_explainer, explain_by_name=explain)


def score(metric: Metric, ctx: EvalContext) -> tuple[np.ndarray, dict[str, Any]]:
    """(B,) float64 scores and the details of one built metric, in the model's evaluation session."""
    with ctx.model.session():
        result = metric.compute(ctx)
    values, details = result if isinstance(result, tuple) else (result, {})
    return np.asarray(values, dtype=np.float64), details


def _specs(metrics) -> list[tuple[str, dict]]:
    if isinstance(metrics, str):
        return [(metrics, {})]
    if isinstance(metrics, Mapping):
        return [(k, dict(v or {})) for k, v in metrics.items()]
    return [(m, {}) if isinstance(m, str) else (m[0], dict(m[1])) for m in metrics]


def _build(name: str, params: dict) -> Metric:
    cls = registry.get(name, "metric")
    registry.check_params(f"metric {name}", params, cls.param_names())
    return cls(**params)


def _check_alignment(batch, explanations: Explanations) -> None:
    if len(batch) != len(explanations):
        raise InputError(f"got {len(explanations)} explanations for {len(batch)} inputs; pass the inputs that were "
                         "explained.")
    for i, e in enumerate(explanations):
        if batch.docs is not None and list(batch.docs[i].features) != list(e.features or []):
            raise InputError(f"explanation {i} has features {e.features[:5] if e.features else None}... but input {i} "
                             f"has {batch.docs[i].features[:5]}...; explain and evaluate the same inputs with the "
                             "same model and granularity.")
        if batch.x is not None and batch.modality == "image" and e.attributions.shape[1:] != batch.x.shape[2:]:
            raise InputError(f"explanation {i} has shape {e.attributions.shape}; input {i} is {batch.x.shape[1:]}.")


def _rationale_masks(rationales: Any, explanations: Explanations) -> list[np.ndarray] | None:
    if rationales is None:
        return None
    if len(rationales) != len(explanations):
        raise InputError(f"got {len(rationales)} rationales for {len(explanations)} explanations.")
    masks = []
    for i, (r, e) in enumerate(zip(rationales, explanations)):
        n = e.attributions[0].size if e.attributions.ndim == 3 else e.attributions.size
        is_spans = isinstance(r, (list, tuple)) and (len(r) == 0 or isinstance(r[0], (list, tuple)))
        mask = from_spans(r, n) if is_spans else np.asarray(r, dtype=bool).ravel()
        if len(mask) > n and e.extras.get("truncated"):
            mask = mask[:n]  # the model never saw the cut words
        if len(mask) != n:
            raise InputError(f"rationale {i} covers {len(mask)} features; its explanation has {n}.")
        masks.append(mask)
    return masks

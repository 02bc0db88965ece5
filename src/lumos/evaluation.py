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
from .params import SEED, check
from .progress import PIECES, ProgressArg, run_chunked
from .rationales import from_spans
from .rationales import spans as spans_of


class Scores(dict):
    """metric name -> (B,) per-example scores; ``details[name]`` holds per-metric extras (curves, per-bin
    values, precision/recall, per-layer correlations), ``info[name]`` the metric's metadata (with ``favours``:
    the methods it favours by construction, as configured) and ``params[name]`` its resolved parameters
    (``params["seed"]`` the seed). ``degenerate``: (B,) True where the explanation ranks nothing (all zero or
    constant); ``mean()`` leaves those examples out."""

    def __init__(self) -> None:
        super().__init__()
        self.details: dict[str, dict[str, Any]] = {}
        self.info: dict[str, dict[str, Any]] = {}
        self.params: dict[str, Any] = {}
        self.degenerate: np.ndarray = np.zeros(0, dtype=bool)
        self.method: str | None = None

    def summary(self) -> dict[str, float]:
        """The mean of each metric over the examples (NaN-aware, degenerate explanations left out)."""
        return self.mean()

    def to_frame(self):
        """A pandas DataFrame: one row per example, one column per metric."""
        import pandas as pd

        return pd.DataFrame({k: np.asarray(v) for k, v in self.items()})

    def mean(self) -> dict[str, float]:
        """Per metric, the mean over the examples with a finite score and a non-degenerate explanation."""
        out = {}
        for k, v in self.items():
            v = np.asarray(v, dtype=np.float64)
            kept = v[~self.degenerate] if len(self.degenerate) == len(v) else v
            out[k] = float(np.nanmean(kept)) if np.isfinite(kept).any() else float("nan")
        return out

    def _repr_html_(self) -> str:
        """Notebook view: per metric the mean with its 95% interval, which way is better, and what it means."""
        from .viz import scores_table

        rows = []
        means = self.mean()
        for name, values in self.items():
            info = self.info.get(name, {})
            v = np.asarray(values, dtype=np.float64)
            kept = v[~self.degenerate] if len(self.degenerate) == len(v) else v
            kept = kept[np.isfinite(kept)]
            rows.append({"metric": name, "higher_is_better": info.get("higher_is_better"), "mean": means[name],
                         "interval": mean_interval(kept), "n": len(kept), "plain": info.get("plain", ""),
                         "favours": info.get("favours", {})})
        return scores_table(rows, self.method, int(self.degenerate.sum()), len(self.degenerate))


BOOTSTRAP_CELLS = 5_000_000  # resamples x values drawn at once (40 MB of float64); more are drawn in batches


def bootstrap_batch(n_values: int, resamples: int = 999) -> int | None:
    """``scipy.stats.bootstrap``'s ``batch`` for ``n_values`` values: None (all resamples at once, as small
    samples always were) unless that would hold more than ``BOOTSTRAP_CELLS`` numbers: 100,000 scores would
    take 800 MB at once."""
    return None if n_values * resamples <= BOOTSTRAP_CELLS else max(1, BOOTSTRAP_CELLS // n_values)


def mean_interval(values: np.ndarray, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean (scipy.stats.bootstrap); NaNs with fewer than 2 values."""
    from scipy.stats import bootstrap

    values = np.asarray(values, dtype=np.float64)
    if len(values) < 2:
        return float("nan"), float("nan")
    if np.ptp(values) == 0:
        return float(values[0]), float(values[0])
    ci = bootstrap((values,), np.mean, confidence_level=level, n_resamples=999, method="percentile",
                   batch=bootstrap_batch(len(values)), random_state=np.random.default_rng(seed)).confidence_interval
    return float(ci.low), float(ci.high)


def evaluate(model: Any, inputs: Any, explanations: Explanations,
             metrics: Iterable[str | tuple[str, dict]] | Mapping[str, dict] = ("comprehensiveness", "sufficiency"),
             rationales: Any = None, seed: int = 0, cache: dict | None = None,
             progress: ProgressArg = None) -> Scores:
    """Score ``explanations`` of ``inputs`` with ``metrics`` (names, (name, params) pairs, or a dict).

    rationales: per example a boolean array over the explanation's features (images: (H, W)), or a list of
    (start, end) word spans (ERASER evidence).
    cache: a dict to share method-independent work (leave-one-out) between calls on the SAME inputs and model,
    e.g. when evaluating several methods' explanations of one batch.
    progress: as in ``lumos.explain`` (long work is scored in pieces of examples, which does not change the
    scores: metrics that depend on the whole batch are scored in one piece).
    """
    check("evaluate", "seed", seed, SEED)
    if not isinstance(explanations, Explanations):
        raise InputError(f"evaluate takes the Explanations that lumos.explain returned; got "
                         f"{type(explanations).__name__}.")
    model = wrap(model)
    ctx = context(model, inputs, explanations, rationales, seed, cache)
    built = [(name, _build(name, params)) for name, params in _specs(metrics)]
    for name, metric in built:
        if ctx.batch.modality not in metric.modalities:
            raise UnsupportedError(f"{name} does not apply to {ctx.batch.modality} explanations; metrics that do: "
                                   f"{', '.join(registry.METRICS.select(ctx.batch.modality))}.")
    pieces: list[dict[str, tuple[np.ndarray, dict[str, Any]]]] = []

    def work(lo: int, hi: int) -> None:
        part = ctx if (lo, hi) == (0, len(explanations)) else _piece(ctx, lo, hi)
        pieces.append({name: score(metric, part) for name, metric in built})

    whole = any(not metric.batch_invariant or any(_per_example(getattr(metric, f), len(explanations))
                                                  for f in metric.param_names()) for _, metric in built)
    run_chunked(len(explanations), work, False if whole and not callable(progress) else progress,
                f"evaluate {explanations.method or ''}".strip(), pieces=1 if whole else PIECES)
    out = Scores()
    out.params["seed"] = int(seed)
    out.degenerate = explanations.degenerate
    out.method = explanations.method
    for name, metric in built:
        out[name] = np.concatenate([p[name][0] for p in pieces])
        out.details[name] = _merge_details([p[name][1] for p in pieces], type(metric).shared_details)
        out.info[name] = {**type(metric).info(), "favours": metric.favoured()}
        out.params[name] = {f: recordable(getattr(metric, f)) for f in metric.param_names()}
    return out


def _per_example(value: Any, n: int) -> bool:
    """A parameter aligned with the examples (e.g. agreement's ``reference``). Metrics with one, and metrics
    with a batch-level convention (``batch_invariant`` False), are scored on all the examples at once."""
    if isinstance(value, (str, bytes)) or value is None:
        return False
    try:
        return len(value) == n
    except TypeError:
        return False


def _piece(ctx: EvalContext, lo: int, hi: int) -> EvalContext:
    """The context of examples lo..hi-1, with a cache of its own inside the shared one."""
    return EvalContext(ctx.model, ctx.batch.subset(range(lo, hi)), ctx.explanations[lo:hi],
                       ctx.rationales[lo:hi] if ctx.rationales is not None else None, ctx.seed,
                       ctx.cache.setdefault(("piece", lo, hi), {}), run=ctx.run, explain_by_name=ctx.explain_by_name)


def _merge_details(parts: list[dict[str, Any]], shared: tuple[str, ...]) -> dict[str, Any]:
    """Details of pieces of examples -> one dict: ``shared`` keys (bins, layers...) once, the rest joined."""
    if len(parts) == 1:
        return parts[0]
    out = {}
    for key in parts[0]:
        values = [p[key] for p in parts]
        if key in shared:
            out[key] = values[0]
        elif isinstance(values[0], np.ndarray):
            out[key] = np.concatenate(values)
        else:
            out[key] = [v for part in values for v in part]
    return out


def context(model: Any, inputs: Any, explanations: Explanations, rationales: Any = None, seed: int = 0,
            cache: dict | None = None) -> EvalContext:
    """What a metric reads: the prepared inputs, checked against the explanations, and the rationale masks."""
    model = wrap(model)
    batch = model.prepare(inputs, explanations.granularity)  # type: ignore[arg-type]
    _check_alignment(batch, explanations)
    masks, spans = _rationale_masks(rationales, explanations)
    return EvalContext(model, batch, explanations, masks, int(seed), cache if cache is not None else {},
                       run=run_explainer, explain_by_name=explain, rationale_spans=spans)


def score(metric: Metric, ctx: EvalContext) -> tuple[np.ndarray, dict[str, Any]]:
    """(B,) float64 scores and the details of one built metric, in the model's evaluation session."""
    with ctx.model.session():
        result = metric.compute(ctx)
    values, details = result if isinstance(result, tuple) else (result, {})
    return np.asarray(values, dtype=np.float64), details


def _specs(metrics) -> list[tuple[str, dict]]:
    """Metric names, (name, params) pairs or a name -> params dict -> [(name, params)]; InputError otherwise."""
    usage = "pass metric names, (name, params) pairs, or a dict of name -> params"
    if isinstance(metrics, str):
        metrics = [metrics]
    if isinstance(metrics, Mapping):
        metrics = list(metrics.items())
    if not isinstance(metrics, (list, tuple)) or not metrics:
        raise InputError(f"evaluate: metrics must be a non-empty list; got {metrics!r}; {usage}.")
    out = []
    for m in metrics:
        if isinstance(m, str):
            out.append((m, {}))
        elif (isinstance(m, (list, tuple)) and len(m) == 2 and isinstance(m[0], str)
              and (m[1] is None or isinstance(m[1], Mapping))):
            out.append((m[0], dict(m[1] or {})))
        else:
            raise InputError(f"evaluate: metric {m!r} is not a name or a (name, params) pair; {usage}.")
    return out


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


def _rationale_masks(rationales: Any, explanations: Explanations
                     ) -> tuple[list[np.ndarray] | None, list[list[tuple[int, int]]] | None]:
    """Per example the (F,) boolean mask and the gold spans: as given for spans (touching spans stay two, as
    ERASER scores them), the mask's contiguous runs for masks."""
    if rationales is None:
        return None, None
    if len(rationales) != len(explanations):
        raise InputError(f"got {len(rationales)} rationales for {len(explanations)} explanations.")
    masks, all_spans = [], []
    for i, (r, e) in enumerate(zip(rationales, explanations)):
        n = e.attributions[0].size if e.attributions.ndim == 3 else e.attributions.size
        is_spans = isinstance(r, (list, tuple)) and (len(r) == 0 or isinstance(r[0], (list, tuple)))
        mask = from_spans(r, n) if is_spans else np.asarray(r, dtype=bool).ravel()
        if len(mask) > n and e.extras.get("truncated"):
            mask = mask[:n]  # the model never saw the cut words
        if len(mask) != n:
            raise InputError(f"rationale {i} covers {len(mask)} features; its explanation has {n}.")
        masks.append(mask)
        all_spans.append([(int(a), min(int(b), n)) for a, b in r if int(a) < n] if is_spans else spans_of(mask))
    return masks, all_spans

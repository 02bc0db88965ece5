"""Run a bench spec: explainers x metrics over examples, in independent units, each committed as it ends.

A unit is (method, a slice of examples): self-contained and serialisable, so the same units can later be
handed to worker processes or a Ray cluster without a scheduler of our own. Re-running a spec skips the units
already in the store.
"""

from __future__ import annotations

import base64
import json
import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .. import __version__, registry
from ..api import explain
from ..errors import InputError, LumosError
from ..evaluation import evaluate
from . import nle_methods
from .data import BenchData, load
from .spec import BenchSpec
from .store import Store, dumps, to_blob

# what "all" means when a budget must stay sane on 2 cores: exact Shapley is exponential, so it is opt-in; the
# other Shapley estimators estimate what kernel_shap does (name them to compare them), and fastshap trains a network
NOT_IN_ALL = {"exact_shapley", "leverage_shap", "regression_shap", "permutation_shap", "stratified_shap", "fastshap"}
DEFAULT_PARAMS = {"lime": {"n_samples": 500}, "kernel_shap": {"n_samples": 500}, "smoothgrad": {"n_samples": 20},
                  "gradient_shap": {"n_samples": 20}, "integrated_gradients": {"steps": 32}}
DEFAULT_METRIC_PARAMS = {"mprt": {"max_layers": 3}, "max_sensitivity": {"n_samples": 5},
                         "infidelity": {"n_samples": 20}}


@dataclass(frozen=True)
class Unit:
    method: str
    index: int
    first: int
    stop: int


def resolve_methods(spec: BenchSpec, data: BenchData, modality: str) -> list[str]:
    if list(spec.methods) != ["all"]:
        return list(spec.methods)
    return [n for n in registry.names("explainer")
            if n not in NOT_IN_ALL and registry.get(n).applies_to(data.model, modality)]


def resolve_metrics(spec: BenchSpec, data: BenchData, modality: str) -> list[str]:
    if list(spec.metrics) != ["all"]:
        return list(spec.metrics)
    out = []
    for name in registry.names("metric"):
        cls = registry.get(name, "metric")
        if modality not in cls.modalities or name == "agreement":  # agreement is computed across methods
            continue
        if cls.needs_rationales and data.rationales is None:
            continue
        if cls.for_generated and not spec.nle:
            continue  # uninformative on attribution methods alone (see Metric.for_generated)
        if name == "mprt" and not hasattr(data.model, "with_network"):
            continue
        if name == "max_sensitivity" and not data.model.supports_gradients:
            continue  # re-explaining n noisy copies with a perturbation method costs n times the method
        out.append(name)
    return out


def encode_input(x: Any) -> str:
    """Text as is; table rows as JSON; images as base64 npy (float16)."""
    if isinstance(x, str):
        return x
    if isinstance(x, np.ndarray) and x.ndim == 3:
        return "npy:" + base64.b64encode(to_blob(x.astype(np.float16))).decode()
    return dumps(x)


def run(spec: BenchSpec, progress: Callable[[str, int, int], None] | None = None) -> str:
    """Run (or resume) ``spec``; returns the run id. ``progress(label, done, total)`` is called per unit."""
    data = load(spec.model, spec.split, spec.n)
    model = data.model
    batch = model.prepare(data.inputs)
    modality = batch.modality
    run_id = spec.run_id()
    if spec.counterfactuals and modality != "tabular":
        raise InputError(f"the bench spec asks for counterfactuals, which need a table model; {spec.model} is "
                         f"a {modality} model. Remove the counterfactuals table from the spec.")
    generated = nle_methods.method_names(spec.nle, modality)  # checked before the run is created
    store = Store(spec.db)
    try:
        store.ensure_run(run_id, spec.to_dict(), modality, model.labels, __version__)
        store.add_examples(run_id, [(i, encode_input(_row(data.inputs, i)),
                                     None if data.labels is None else str(data.labels[i]),
                                     None if data.rationales is None else dumps(data.rationales[i]))
                                    for i in range(len(batch))])
        methods = resolve_methods(spec, data, modality) + generated
        metrics = resolve_metrics(spec, data, modality)
        units = [Unit(m, k, lo, min(len(batch), lo + spec.unit_size))
                 for m in methods for k, lo in enumerate(range(0, len(batch), spec.unit_size))]
        done = store.done_units(run_id)
        todo = [u for u in units if (u.method, u.index) not in done]
        shared: dict[int, dict] = {}  # per slice of examples: work every method's metrics reuse (leave-one-out)
        for count, unit in enumerate(todo):
            if progress:
                progress(unit.method, len(units) - len(todo) + count, len(units))
            result = run_unit(spec, data, unit, metrics, shared.setdefault(unit.first, {}))
            store.write_unit(run_id, unit.method, unit.index, unit.first, *result)
        if spec.counterfactuals:
            from ..counterfactuals.section import counterfactual_section

            if progress:
                progress("counterfactuals", len(units), len(units))
            store.add_section(run_id, "counterfactuals", "What would flip the decision",
                              counterfactual_section(model, data.train, data.inputs, spec.counterfactuals, spec.seed))
        if progress:
            progress("done", len(units), len(units))
        return run_id
    finally:
        store.close()


def run_unit(spec: BenchSpec, data: BenchData, unit: Unit, metrics: list[str], cache: dict | None = None):
    """Explain and score one unit; returns (explanations, scores, timing) ready for the store."""
    model = data.model
    inputs = _rows(data.inputs, unit.first, unit.stop)
    model.reset_counts()
    t0 = time.perf_counter()
    if unit.method.startswith(nle_methods.PREFIX):
        expl = nle_methods.explain_nle(model, inputs, unit.method, spec.nle, spec.seed)
    else:
        params = _with_background(registry.get(unit.method), data,
                                  {**DEFAULT_PARAMS.get(unit.method, {}), **spec.params.get(unit.method, {})})
        expl = explain(model, inputs, method=unit.method, seed=spec.seed, **params)
    explain_seconds = time.perf_counter() - t0
    rows, calls = model.counts.rows, model.counts.forwards
    rationales = data.rationales[unit.first:unit.stop] if data.rationales is not None else None
    t1 = time.perf_counter()
    specs = [(m, _with_background(registry.get(m, "metric"), data,
                                  {**DEFAULT_METRIC_PARAMS.get(m, {}), **spec.metric_params.get(m, {})}))
             for m in metrics]
    try:  # one call, so what metrics share (leave-one-out) is computed once
        result = evaluate(model, inputs, expl, metrics=specs, rationales=rationales, seed=spec.seed, cache=cache)
    except LumosError:
        result = {}
        for metric, mparams in specs:  # find which metric cannot score this method, keep the others
            try:
                result.update(evaluate(model, inputs, expl, metrics=[(metric, mparams)], rationales=rationales,
                                       seed=spec.seed))
            except LumosError as e:
                warnings.warn(f"{metric} could not score {unit.method} on examples {unit.first}..{unit.stop - 1}: "
                              f"{e}", stacklevel=2)
                result[metric] = np.full(len(expl), np.nan)
    scores = [(unit.first + i, metric, float(v)) for metric in metrics for i, v in enumerate(result[metric])]
    explanations = [{"example_id": unit.first + i, "target": e.target, "probs": e.probs.tolist(),
                     "features": e.features, "attributions": e.attributions,
                     "extras": {k: v for k, v in e.extras.items() if isinstance(v, (int, float, str, bool))}}
                    for i, e in enumerate(expl)]
    timing = {"explain_seconds": explain_seconds, "metric_seconds": time.perf_counter() - t1,
              "forward_rows": rows, "forward_calls": calls}
    return explanations, scores, timing


def _with_background(cls: type, data: BenchData, params: dict) -> dict:
    """Tables: methods and metrics that replace removed columns get the training rows as background."""
    names = cls.param_names()
    if data.background is not None and "background" in names and "background" not in params:
        return {**params, "background": data.background}
    return params


def _row(inputs: Any, i: int) -> Any:
    if hasattr(inputs, "iloc"):
        return json.loads(inputs.iloc[i].to_json())
    return inputs[i]


def _rows(inputs: Any, lo: int, hi: int) -> Any:
    return inputs.iloc[lo:hi] if hasattr(inputs, "iloc") else inputs[lo:hi]

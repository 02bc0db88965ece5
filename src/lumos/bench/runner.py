"""Run a bench spec: explainers x metrics over examples, in independent units, each committed as it ends.

A unit is (method, a slice of examples): self-contained and serialisable, so the same units run here
(backend "local") or as Ray tasks (backend "ray", ``ray_backend.py``). Examples are read a slice at a time and
this process alone writes the store. Re-running a spec skips the units already in the store.
"""

from __future__ import annotations

import base64
import json
import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd

from .. import registry
from ..api import explain
from ..errors import InputError, LumosError
from ..version import __version__
from ..evaluation import evaluate
from . import nle_methods
from .data import BenchData, Source, open_source
from .spec import BenchSpec
from .sections import section_of
from .store import Store, dumps, to_blob

# what "all" means when a budget must stay sane on 2 cores: exact Shapley is exponential, so it is opt-in
NOT_IN_ALL = {"exact_shapley"}
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
    return [n for n in registry.EXPLAINERS.select(modality, data.model) if n not in NOT_IN_ALL]


def resolve_metrics(spec: BenchSpec, data: BenchData, modality: str) -> list[str]:
    """The spec's metrics, or for "all" every metric that applies to the model (its capabilities) and data,
    except the ones that would mislead or cost a multiple of the methods (see each condition)."""
    if list(spec.metrics) != ["all"]:
        return list(spec.metrics)
    out = []
    for name in registry.METRICS.select(modality, data.model):
        cls = registry.get(name, "metric")
        if cls.needs_reference:
            continue  # agreement with another method: the report's agreement table covers it across methods
        if cls.needs_rationales and data.rationales is None:
            continue
        if cls.for_generated and not spec.nle:
            continue  # uninformative on attribution methods alone (see Metric.for_generated)
        if cls.reexplains and not data.model.supports_gradients:
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


def example_rows(data: BenchData, first: int) -> list[tuple[int, str, str | None, str | None]]:
    """The store's rows for the examples of ``data`` (a slice starting at example ``first``)."""
    if isinstance(data.inputs, pd.DataFrame):  # one JSON dump for the slice, column types as row by row
        encoded = [dumps(row) for row in json.loads(data.inputs.T.to_json()).values()]
    else:
        encoded = [encode_input(x) for x in data.inputs]
    return [(first + i, text, None if data.labels is None else str(data.labels[i]),
             None if data.rationales is None else dumps(data.rationales[i])) for i, text in enumerate(encoded)]


@dataclass
class Slice:
    """Consecutive examples (``frame``, ``data``) and the units of work on them still to do."""

    frame: pd.DataFrame
    data: BenchData
    units: list[Unit]


BACKENDS = ("local", "ray")
SECTION_ROWS = 1000  # the first rows a report section (counterfactuals) may read


def run(spec: BenchSpec, progress: Callable[[str, int, int], None] | None = None, backend: str = "local",
        address: str | None = None) -> str:
    """Run (or resume) ``spec``; returns the run id. ``progress(label, done, total)`` is called as each unit
    is stored (``done``: the units stored before it). ``backend``: "local" runs units in this process; "ray"
    runs them as Ray tasks (``address`` joins a cluster, else $RAY_ADDRESS, else a local Ray starts). Either
    way this process alone writes the store, one transaction per unit, and reads examples a slice at a time."""
    if backend not in BACKENDS:
        raise InputError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}.")
    if address and backend != "ray":
        raise InputError(f"an address ({address}) joins a Ray cluster; add --backend ray (backend='ray').")
    source = open_source(spec.model, spec.split, spec.n, spec.data)
    model = source.model
    head = source.part(source.examples.head(1))
    modality = model.prepare(head.inputs).modality
    run_id = spec.run_id()
    for kind in spec.sections():
        needs = section_of(kind).modalities
        if modality not in needs:
            named = " or ".join("table" if m == "tabular" else m for m in needs)
            raise InputError(f"the bench spec asks for {kind}, which need a {named} model; {spec.model} is a "
                             f"{modality} model. Remove the {kind} table from the spec.")
    generated = nle_methods.method_names(spec.nle, modality)  # checked before the run is created
    store = Store(spec.db)
    try:
        store.ensure_run(run_id, spec.to_dict(), modality, model.labels, __version__)
        methods = resolve_methods(spec, head, modality) + generated
        metrics = resolve_metrics(spec, head, modality)
        n_slices = -(-len(source.examples) // spec.unit_size)
        total = len(methods) * n_slices
        done = {(m, k) for m, k in store.done_units(run_id) if m in methods and k < n_slices}
        work = _slices(store, run_id, source, spec.unit_size, methods, done)
        if backend == "ray":
            from . import ray_backend

            results = ray_backend.execute(spec, work, metrics, source.background, run_unit, address)
        else:
            results = _execute_here(spec, work, metrics)
        for count, (unit, result) in enumerate(results, start=len(done)):
            if progress:
                progress(unit.method, count, total)
            store.write_unit(run_id, unit.method, unit.index, unit.first, *result)
        for kind, settings in spec.sections().items():
            if progress:
                progress(kind, total, total)
            section = section_of(kind)
            result = section.run(model, source.part(source.examples.head(SECTION_ROWS)), settings, spec.seed)
            store.add_section(run_id, kind, section.title, section.payload(result, settings=settings))
        if progress:
            progress("done", total, total)
        return run_id
    finally:
        store.close()


def _slices(store: Store, run_id: str, source: Source, size: int, methods: list[str],
            done: set[tuple[str, int]]) -> Iterator[Slice]:
    """The examples a slice at a time with their units still to do; each slice's examples are stored as it
    is read (a slice whose units are all done was stored before them)."""
    for index, (first, frame) in enumerate(source.examples.slices(size)):
        units = [Unit(m, index, first, first + len(frame)) for m in methods if (m, index) not in done]
        if units:
            data = source.part(frame)
            store.add_examples(run_id, example_rows(data, first))
            yield Slice(frame, data, units)


def _execute_here(spec: BenchSpec, work: Iterator[Slice], metrics: list[str]) -> Iterator[tuple[Unit, tuple]]:
    """The local backend: units one after another in this process."""
    for piece in work:
        shared: dict = {}  # work the slice's methods' metrics reuse (leave-one-out)
        for unit in piece.units:
            yield unit, run_unit(spec, piece.data, unit, metrics, shared)


def run_unit(spec: BenchSpec, data: BenchData, unit: Unit, metrics: list[str], cache: dict | None = None):
    """Explain and score one unit (``data``: its examples); returns (explanations, scores, timing) ready for
    the store."""
    model = data.model
    inputs = data.inputs
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
    rationales = data.rationales
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


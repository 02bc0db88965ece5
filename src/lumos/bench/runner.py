"""Run a bench spec: explainers x metrics over examples, in independent units, each committed as it ends.

A unit is (method, a slice of examples): self-contained and serialisable, so the same units run here
(backend "local") or as Ray tasks (backend "ray", ``ray_backend.py``). Examples are read a slice at a time and
this process alone writes the store. Re-running a spec skips the units already in the store.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd

from .. import registry
from ..api import explain
from ..errors import InputError, LumosError, UnsupportedError
from ..version import __version__
from ..evaluation import evaluate
from . import nle_methods
from .data import BenchData, Source, open_source
from .fingerprint import differences, fingerprint
from .spec import BenchSpec
from .sections import section_of
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


class RunIncomplete(LumosError):
    """Some units of a run failed; the others are stored. ``run_id`` and ``failures`` (one line each) say
    which; running the spec again retries the units that were not stored."""

    def __init__(self, run_id: str, failures: list[str], total: int):
        self.run_id, self.failures = run_id, failures
        shown = "; ".join(failures[:3]) + (f"; and {len(failures) - 3} more" if len(failures) > 3 else "")
        super().__init__(f"{len(failures)} of {total} units of run {run_id} failed: {shown}")


@dataclass(frozen=True)
class Estimate:
    """What a short probe (one example per method, explained and scored, not stored) says the rest will cost:
    ``seconds_per_example`` per method, and the examples each still has to do."""

    seconds_per_example: dict[str, float]
    todo: dict[str, int]
    probe_seconds: float

    @property
    def seconds(self) -> float:
        """The whole remaining run, at the probe's pace."""
        return sum(t * self.todo.get(m, 0) for m, t in self.seconds_per_example.items())

    def seconds_for(self, n: int) -> float:
        """The same run with ``n`` examples."""
        return sum(self.seconds_per_example.values()) * n

    def n_within(self, seconds: float) -> int:
        """The most examples that fit in ``seconds`` (at least 1)."""
        per = sum(self.seconds_per_example.values())
        return max(1, int(seconds // per)) if per > 0 else 1


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
FINGERPRINT_ROWS = 1000  # examples whose predictions go into a run's fingerprint (and examples hashed at a time)


def run(spec: BenchSpec, progress: Callable[[str, float, float], None] | None = None,
        estimate: Callable[[Estimate], None] | None = None, backend: str = "local", address: str | None = None) -> str:
    """Run (or resume) ``spec``; returns the run id.

    The whole spec is checked before the run is created (every method and metric applies to the model, every
    parameter is valid); resuming a run made with another model or other examples is refused, with what
    differs. A unit that fails does not stop the others: at the end ``RunIncomplete`` names the failures.

    ``progress(label, done, total)``: called as work advances, in examples x methods (locally also fractions
    while a unit is explained and scored; on Ray as each unit is stored). ``estimate(Estimate)``: when given
    and more than two examples per method are left, one example per method is run first as a probe and its
    pace reported before the rest starts. ``backend``: "local" runs units in this process; "ray" runs them as
    Ray tasks (``address`` joins a cluster, else $RAY_ADDRESS, else a local Ray starts). Either way this process
    alone writes the store, one transaction per unit, and reads examples a slice at a time."""
    if backend not in BACKENDS:
        raise InputError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}.")
    if address and backend != "ray":
        raise InputError(f"an address ({address}) joins a Ray cluster; add --backend ray (backend='ray').")
    source = open_source(spec.model, spec.split, spec.n, spec.data, seed=spec.seed, first=spec.first)
    model = source.model
    head = source.part(source.examples.head(1))
    modality = model.prepare(head.inputs).modality
    run_id = spec.run_id()
    generated, methods, metrics = check_plan(spec, head, modality)
    made_with = made_with_fingerprint(source)
    store = Store(spec.db, create=True)
    try:
        if store.ensure_run(run_id, spec.to_dict(), modality, model.labels, __version__, made_with):
            _check_same_run(store, run_id, made_with, spec)
        methods = methods + generated
        n_examples = len(source.examples)
        n_slices = -(-n_examples // spec.unit_size)
        size = [min(spec.unit_size, n_examples - k * spec.unit_size) for k in range(n_slices)]
        done = {(m, k) for m, k in store.done_units(run_id) if m in methods and k < n_slices}
        total = float(len(methods) * n_examples)
        finished = float(sum(size[k] for _, k in done))
        if estimate is not None and total - finished > 2 * len(methods):
            left = {m: sum(size[k] for k in range(n_slices) if (m, k) not in done) for m in methods}
            estimate(probe(spec, head, metrics, {m: c for m, c in left.items() if c}))
        work = _slices(store, run_id, source, spec.unit_size, methods, done)
        if progress:
            progress("start", finished, total)
        if backend == "ray":
            from . import ray_backend

            results = ray_backend.execute(spec, work, metrics, source.background, attempt_unit, address)
        else:
            def step(unit: Unit, phase: int, d: float, t: float) -> None:  # explain: first half, scoring: second
                progress(unit.method, finished + (unit.stop - unit.first) * (phase + (d / t if t else 1.0)) / 2, total)

            results = _execute_here(spec, work, metrics, step if progress else None)
        failures: list[str] = []
        for unit, (result, failure) in results:
            where = f"{unit.method} on examples {unit.first}..{unit.stop - 1}"
            finished += unit.stop - unit.first
            if result is None:
                failures.append(f"{where}: {failure}")
                continue
            store.write_unit(run_id, unit.method, unit.index, unit.first, *result[:3])
            failures += [f"{where}: {problem}" for problem in result[3]]
            if progress:
                progress(unit.method, finished, total)
        for kind, settings in spec.sections().items():
            if progress:
                progress(kind, total, total)
            section = section_of(kind)
            result = section.run(model, source.part(source.examples.head(SECTION_ROWS)), settings, spec.seed)
            store.add_section(run_id, kind, section.title, section.payload(result, settings=settings))
        if progress:
            progress("done", total, total)
        if failures:
            raise RunIncomplete(run_id, failures, len(methods) * n_slices)
        return run_id
    finally:
        store.close()


def check_plan(spec: BenchSpec, data: BenchData, modality: str) -> tuple[list[str], list[str], list[str]]:
    """(generated methods, methods, metrics) of the spec, after checking all of it against the model: every
    name known and applying to the model, every parameter valid (each method and metric is built once with
    its parameters), params tables naming only methods and metrics of the run. All problems are reported in
    one InputError, before the run exists."""
    problems: list[str] = []
    for kind in spec.sections():
        needs = section_of(kind).modalities
        if modality not in needs:
            named = " or ".join("table" if m == "tabular" else m for m in needs)
            problems.append(f"the spec asks for {kind}, which need a {named} model; {spec.model} is a {modality} "
                            f"model (remove the {kind} table)")
    generated: list[str] = []
    try:
        generated = nle_methods.method_names(spec.nle, modality)
    except LumosError as e:
        problems.append(str(e).rstrip("."))
    methods = resolve_methods(spec, data, modality)
    metrics = resolve_metrics(spec, data, modality)
    for name in methods:
        try:
            cls = registry.get(name, "explainer")
            if not cls.applies_to(data.model, modality):
                has = ", ".join(sorted(data.model.capabilities)) or "predictions only"
                raise UnsupportedError(f"method {name} does not apply to {spec.model} ({modality} model; {has})")
            _build_checked(cls, {**DEFAULT_PARAMS.get(name, {}), **spec.params.get(name, {})})
        except LumosError as e:
            problems.append(str(e).rstrip("."))
    for name in metrics:
        try:
            cls = registry.get(name, "metric")
            if modality not in cls.modalities or not data.model.can(*cls.requires):
                raise UnsupportedError(f"metric {name} does not apply to {spec.model} ({modality} model)")
            if cls.needs_rationales and data.rationales is None:
                raise UnsupportedError(f"metric {name} needs human rationales, and {spec.model}'s data has none")
            if cls.needs_reference:
                raise UnsupportedError(f"metric {name} needs a reference explanation; the report's agreement "
                                       "table compares the methods of a run")
            _build_checked(cls, {**DEFAULT_METRIC_PARAMS.get(name, {}), **spec.metric_params.get(name, {})})
        except LumosError as e:
            problems.append(str(e).rstrip("."))
    for table, kind in (("params", "explainer"), ("metric_params", "metric")):
        for name in sorted(set(getattr(spec, table)) - set(methods + generated + metrics)):
            if name not in registry.names(kind):  # a typo; a known one not in this run is kept for other runs
                problems.append(str(registry.did_you_mean(name, registry.names(kind), kind,
                                                          f"[{table}] names {name!r}, which is no {kind}")))
    if not methods + generated:
        problems.append(f"no method applies to {spec.model}")
    if problems:
        raise InputError(f"the bench spec cannot run ({len(problems)} problem{'s' * (len(problems) > 1)}): "
                         + "; ".join(problems) + ". Nothing was run or stored.")
    return generated, methods, metrics


def _build_checked(cls: type, params: dict) -> None:
    """Build the plug-in once with ``params`` (unknown names and bad values raise an InputError)."""
    registry.check_params(cls.name, params, cls.param_names())
    cls(**params)


def _check_same_run(store: Store, run_id: str, made_with: dict, spec: BenchSpec) -> None:
    """Refuse to resume ``run_id`` with another model or other examples; a run made before fingerprints
    existed gets this one (and a warning: what it was made with cannot be checked)."""
    then = store.fingerprint(run_id)
    if then is None:
        store.set_fingerprint(run_id, made_with)
        warnings.warn(f"run {run_id} in {spec.db} was made before lumos recorded what a run is made with; "
                      "resuming it on trust (its units cannot be checked against this model).", stacklevel=3)
        return
    differ = differences(then, made_with)
    if differ:
        raise InputError(f"run {run_id} in {spec.db} was made with another model or other data: "
                         + "; ".join(differ) + ". Resuming would mix two models' results under one run id. "
                         "Write to another file with --db, or delete the run to start it again.")


def made_with_fingerprint(source: Source) -> dict:
    """The run's fingerprint: the model, a hash of every example (read a slice at a time) and the model's
    predictions on the first ``FINGERPRINT_ROWS`` (enough to tell two models apart, even callables lumos cannot
    hash, while a run over a million rows stores a small fingerprint)."""
    digest = hashlib.sha256()
    first = None
    for start, frame in source.examples.slices(FINGERPRINT_ROWS):
        rows = example_rows(source.part(frame), start)
        digest.update(json.dumps(rows, sort_keys=True).encode())
        first = first if first is not None else frame
    head = source.part(first)
    with source.model.session():
        predictions = source.model.evaluate(source.model.prepare(head.inputs).rows())
    return fingerprint(source.model, digest.hexdigest(), len(source.examples), predictions, source.zoo_meta)


def probe(spec: BenchSpec, head: BenchData, metrics: list[str], left: dict[str, int]) -> Estimate:
    """Explain and score the first example once per method in ``left`` (examples still to do per method;
    nothing stored): seconds per example."""
    pace = {}
    started = time.perf_counter()
    for method in left:
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the real run warns
            run_unit(spec, head, Unit(method, -1, 0, 1), metrics, {})
        pace[method] = time.perf_counter() - t0
    return Estimate(pace, left, time.perf_counter() - started)


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


def _execute_here(spec: BenchSpec, work: Iterator[Slice], metrics: list[str],
                  step: Callable[[Unit, int, float, float], None] | None) -> Iterator[tuple[Unit, tuple]]:
    """The local backend: units one after another in this process; ``step(unit, phase, done, total)`` reports
    progress inside a unit."""
    for piece in work:
        shared: dict = {}  # work the slice's methods' metrics reuse (leave-one-out)
        for unit in piece.units:
            inside = (lambda phase, d, t, unit=unit: step(unit, phase, d, t)) if step else None
            if inside:
                inside(0, 0, 1)
            yield unit, attempt_unit(spec, piece.data, unit, metrics, shared, progress=inside)


def attempt_unit(spec: BenchSpec, data: BenchData, unit: Unit, metrics: list[str], cache: dict | None = None,
                 progress: Callable[[int, float, float], None] | None = None) -> tuple[tuple | None, str | None]:
    """``run_unit``, with a failure returned as (None, what went wrong in one line) instead of raised: a failing
    unit is reported at the end of the run and the others still run (on Ray too: only a dead worker retries)."""
    try:
        return run_unit(spec, data, unit, metrics, cache, progress), None
    except Exception as e:  # noqa: BLE001 - a failing unit is reported, the others still run
        return None, f"{type(e).__name__}: {str(e).splitlines()[0].rstrip('.') if str(e) else ''}"


def run_unit(spec: BenchSpec, data: BenchData, unit: Unit, metrics: list[str], cache: dict | None = None,
             progress: Callable[[int, float, float], None] | None = None):
    """Explain and score one unit (``data``: its examples); returns (explanations, scores, timing, problems)
    ready for the store; ``problems``: the metrics that could not score it (their scores are NaN).
    ``progress(phase, done, total)``: phase 0 while explaining, 1 while scoring (examples of the unit)."""
    explaining = (lambda d, t: progress(0, d, t)) if progress else False
    scoring = (lambda d, t: progress(1, d, t)) if progress else False
    model = data.model
    inputs = data.inputs
    model.reset_counts()
    t0 = time.perf_counter()
    if unit.method.startswith(nle_methods.PREFIX):
        expl = nle_methods.explain_nle(model, inputs, unit.method, spec.nle, spec.seed)
    else:
        params = _with_background(registry.get(unit.method), data,
                                  {**DEFAULT_PARAMS.get(unit.method, {}), **spec.params.get(unit.method, {})})
        expl = explain(model, inputs, method=unit.method, seed=spec.seed, progress=explaining, **params)
    explain_seconds = time.perf_counter() - t0
    rows, calls = model.counts.rows, model.counts.forwards
    rationales = data.rationales
    problems: list[str] = []
    t1 = time.perf_counter()
    specs = [(m, _with_background(registry.get(m, "metric"), data,
                                  {**DEFAULT_METRIC_PARAMS.get(m, {}), **spec.metric_params.get(m, {})}))
             for m in metrics]
    try:  # one call, so what metrics share (leave-one-out) is computed once
        result = evaluate(model, inputs, expl, metrics=specs, rationales=rationales, seed=spec.seed, cache=cache,
                          progress=scoring)
    except LumosError:
        result = {}
        for metric, mparams in specs:  # find which metric cannot score this method, keep the others
            try:
                result.update(evaluate(model, inputs, expl, metrics=[(metric, mparams)], rationales=rationales,
                                       seed=spec.seed, progress=False))
            except LumosError as e:
                problems.append(f"{metric} could not score it: {str(e).rstrip('.')}")
                result[metric] = np.full(len(expl), np.nan)
    scores = [(unit.first + i, metric, float(v)) for metric in metrics for i, v in enumerate(result[metric])]
    explanations = [{"example_id": unit.first + i, "target": e.target, "probs": e.probs.tolist(),
                     "features": e.features, "attributions": e.attributions,
                     "extras": {k: v for k, v in e.extras.items() if isinstance(v, (int, float, str, bool))}}
                    for i, e in enumerate(expl)]
    timing = {"explain_seconds": explain_seconds, "metric_seconds": time.perf_counter() - t1,
              "forward_rows": rows, "forward_calls": calls}
    return explanations, scores, timing, problems


def _with_background(cls: type, data: BenchData, params: dict) -> dict:
    """Tables: methods and metrics that replace removed columns get the training rows as background."""
    names = cls.param_names()
    if data.background is not None and "background" in names and "background" not in params:
        return {**params, "background": data.background}
    return params


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
from typing import Any, Callable, Sequence

import numpy as np

from .. import registry
from ..api import explain
from ..errors import InputError, LumosError, UnsupportedError
from ..version import __version__
from ..evaluation import evaluate
from . import nle_methods
from .data import BenchData, load
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


def run(spec: BenchSpec, progress: Callable[[str, float, float], None] | None = None,
        estimate: Callable[[Estimate], None] | None = None) -> str:
    """Run (or resume) ``spec``; returns the run id.

    The whole spec is checked before the run is created (every method and metric applies to the model, every
    parameter is valid); resuming a run made with another model or other examples is refused, with what
    differs. A unit that fails does not stop the others: at the end ``RunIncomplete`` names the failures.

    ``progress(label, done, total)``: called as work advances, in examples x methods (fractions while a unit
    is explained and scored). ``estimate(Estimate)``: when given and more than two examples per method are
    left, one example per method is run first as a probe and its pace reported before the rest starts."""
    data = load(spec.model, spec.split, spec.n, seed=spec.seed, first=spec.first)
    model = data.model
    batch = model.prepare(data.inputs)
    modality = batch.modality
    run_id = spec.run_id()
    generated, methods, metrics = check_plan(spec, data, modality)
    examples = [(i, encode_input(_row(data.inputs, i)), None if data.labels is None else str(data.labels[i]),
                 None if data.rationales is None else dumps(data.rationales[i])) for i in range(len(batch))]
    with model.session():
        predictions = model.evaluate(batch.rows())
    made_with = fingerprint(model, examples, predictions, data.zoo_meta)
    store = Store(spec.db, create=True)
    try:
        if store.ensure_run(run_id, spec.to_dict(), modality, model.labels, __version__, made_with):
            _check_same_run(store, run_id, made_with, spec)
        store.add_examples(run_id, examples)
        methods = methods + generated
        units = [Unit(m, k, lo, min(len(batch), lo + spec.unit_size))
                 for m in methods for k, lo in enumerate(range(0, len(batch), spec.unit_size))]
        done = store.done_units(run_id)
        todo = [u for u in units if (u.method, u.index) not in done]
        total = float(sum(u.stop - u.first for u in units))
        finished = total - sum(u.stop - u.first for u in todo)
        if estimate is not None and total - finished > 2 * len(methods):
            estimate(probe(spec, data, metrics, todo))
        shared: dict[int, dict] = {}  # per slice of examples: work every method's metrics reuse (leave-one-out)
        failures: list[str] = []
        for unit in todo:
            size = unit.stop - unit.first

            def advance(phase: int, d: float, t: float, unit: Unit = unit, size: int = size) -> None:
                if progress:  # explain is the first half of a unit's work, scoring the second
                    progress(unit.method, finished + size * (phase + (d / t if t else 1.0)) / 2, total)

            advance(0, 0, 1)
            where = f"{unit.method} on examples {unit.first}..{unit.stop - 1}"
            try:
                result = run_unit(spec, data, unit, metrics, shared.setdefault(unit.first, {}),
                                  progress=advance if progress else None)
            except Exception as e:  # noqa: BLE001 - a failing unit is reported, the others still run
                failures.append(f"{where}: {type(e).__name__}: {str(e).splitlines()[0].rstrip('.') if str(e) else ''}")
                finished += size
                continue
            store.write_unit(run_id, unit.method, unit.index, unit.first, *result[:3])
            failures += [f"{where}: {problem}" for problem in result[3]]
            finished += size
        for kind, settings in spec.sections().items():
            if progress:
                progress(kind, total, total)
            section = section_of(kind)
            result = section.run(model, data, settings, spec.seed)
            store.add_section(run_id, kind, section.title, section.payload(result, settings=settings))
        if progress:
            progress("done", total, total)
        if failures:
            raise RunIncomplete(run_id, failures, len(units))
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


def probe(spec: BenchSpec, data: BenchData, metrics: list[str], todo: Sequence[Unit]) -> Estimate:
    """Explain and score the first example once per method still to do (nothing stored): seconds per example."""
    pace, left = {}, {}
    started = time.perf_counter()
    for unit in todo:
        left[unit.method] = left.get(unit.method, 0) + unit.stop - unit.first
    for method in left:
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the real run warns
            run_unit(spec, data, Unit(method, -1, 0, 1), metrics, {})
        pace[method] = time.perf_counter() - t0
    return Estimate(pace, left, time.perf_counter() - started)


def run_unit(spec: BenchSpec, data: BenchData, unit: Unit, metrics: list[str], cache: dict | None = None,
             progress: Callable[[int, float, float], None] | None = None):
    """Explain and score one unit; returns (explanations, scores, timing, problems) ready for the store;
    ``problems``: the metrics that could not score it (their scores are NaN).
    ``progress(phase, done, total)``: phase 0 while explaining, 1 while scoring (examples of the unit)."""
    explaining = (lambda d, t: progress(0, d, t)) if progress else False
    scoring = (lambda d, t: progress(1, d, t)) if progress else False
    model = data.model
    inputs = _rows(data.inputs, unit.first, unit.stop)
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
    rationales = data.rationales[unit.first:unit.stop] if data.rationales is not None else None
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


def _row(inputs: Any, i: int) -> Any:
    if hasattr(inputs, "iloc"):
        return json.loads(inputs.iloc[i].to_json())
    return inputs[i]


def _rows(inputs: Any, lo: int, hi: int) -> Any:
    return inputs.iloc[lo:hi] if hasattr(inputs, "iloc") else inputs[lo:hi]

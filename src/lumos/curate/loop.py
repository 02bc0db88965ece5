"""The loop: discover an artifact, repair the training split, retrain through the zoo's recipe (``train_on``,
cached), and measure every model on the same splits."""

from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..artifacts.data import labelled
from ..artifacts.edits import edit_for
from ..artifacts.inject import Planted, contrast_splits
from ..artifacts.result import Findings
from ..errors import InputError
from .base import RepairContext, Repaired, build
from .measure import Measurement, measure
from .result import Outcome, Robustified, explained_pairs

DEFAULT_REPAIRS = ("augment", "jtt", "group_balance", "confident_learning")


def discover(name: str, model: Any, splits: dict[str, pd.DataFrame], class_names: Sequence[str], seed: int = 0,
             **params: Any) -> Findings:
    """Run the discoverer ``name`` the way the loop does: statistics and partial-input on the training split,
    attributions and worst slices with the model on the validation split, influence from training to
    validation, data maps from the model's recorded dynamics."""
    from ..registry import DISCOVERERS

    train, validation = splits["train"], splits["validation"]
    fn = DISCOVERERS.get(name)
    if name == "statistics":
        return fn(train, class_names=class_names, **params)
    if name == "partial_input":
        return fn(train, validation, class_names=class_names, seed=seed, **params)
    if name in ("attributions", "worst_slices"):
        return fn(model, validation, class_names=class_names, seed=seed, **params)
    if name == "influence":
        return fn(model, train, validation, class_names=class_names, seed=seed, **params)
    if name == "data_map":
        return fn(model, train, class_names=class_names, **params)
    return fn(model, train, class_names=class_names, **params)  # a discoverer from a plug-in: (model, data)


def _splits(recipe: str, data: Any) -> tuple[dict[str, pd.DataFrame], Planted | None]:
    if isinstance(data, Planted):
        return data.splits, data
    if isinstance(data, dict):
        return data, None
    if data is None:
        from ..zoo import get

        return get(recipe).dataset().copy_splits(), None
    raise InputError(f"data must be a Planted variant (lumos.artifacts.inject), a dict of splits or None (the "
                     f"recipe's own data); got {type(data).__name__}.")


def robustify(recipe: str, data: Any = None, *, repairs: Sequence[Any] = DEFAULT_REPAIRS,
              discoverer: str = "statistics", artifact: str | None = None, settings: dict | None = None,
              discover_params: dict | None = None, attribution_method: str | None = "occlusion",
              attribution_rows: int | None = 200, n_examples: int = 4, seed: int = 0, dynamics: bool = False,
              progress: bool = False, cache_dir: Any = None) -> Robustified:
    """Discover -> repair -> retrain -> measure.

    recipe: a zoo name whose recipe trains every model ("sentiment/tfidf", "sentiment/minilm",
    "tabular/adult/gbm", ...). data: a planted variant from ``lumos.artifacts.inject``, your own splits, or
    None (the recipe's own data). The plain model is trained on the training split; ``discoverer`` ranks
    candidates and the top one is repaired (or ``artifact``, a candidate key). Each repair (a name, a
    (name, params) pair or a repair object) makes a new training split or weights, a model is retrained on it
    with the same recipe and ``settings`` (cached by ``lumos.zoo.train_on``), and every model is measured on
    the same test, contrast and aligned splits (see ``Measurement``). ``dynamics``: train the plain model with
    training dynamics (``artifacts.data_map(result.plain.model, train)``; the data_map discoverer sets it).
    ``n_examples``: contrast rows the plain model gets wrong and the best repair right, explained by both
    (``attribution_method``) for the report.
    """
    from ..zoo import train_on

    start = time.perf_counter()
    settings = dict(settings or {})
    splits, planted = _splits(recipe, data)
    t0 = time.perf_counter()
    model, _, meta = train_on(recipe, splits, progress=progress, cache_dir=cache_dir,
                              dynamics=dynamics or discoverer == "data_map", **settings)
    plain_seconds = time.perf_counter() - t0
    labels = tuple(model.labels)
    train = labelled(splits["train"], class_names=labels, what="the training split")
    t0 = time.perf_counter()
    findings = discover(discoverer, model, splits, labels, seed, **(discover_params or {}))
    discover_seconds = time.perf_counter() - t0
    if artifact is None:
        if not len(findings):
            raise InputError(f"the {discoverer} discoverer found no candidate; pass artifact= or lower its "
                             "min_count.")
        key, kind = findings[0].key, findings[0].kind
    else:
        found = next((c for c in findings if c.key == artifact), None)
        key, kind = artifact, found.kind if found is not None else ("value" if " = " in artifact else "token")
    edit = edit_for(key, kind, train)
    present = edit.present(train.frame)
    if not present.any():
        raise InputError(f"the artifact {key!r} occurs in no training row.")
    label = int(np.bincount(train.y[present], minlength=len(labels)).argmax())
    if planted is not None and planted.key == key:
        contrast, aligned = planted.contrast, planted.aligned
    else:
        contrast, aligned = contrast_splits(splits["test"], edit, label, seed)
    views = [labelled(f, class_names=labels, text_column=train.text_column, what=w)
             for f, w in ((splits["test"], "test"), (contrast, "contrast"), (aligned, "aligned"))]
    background = None if train.is_text else train.frame[list(train.columns)].sample(50, random_state=seed)

    def measured(m: Any) -> Measurement:
        return measure(m, *views, edit, label, attribution_method=attribution_method,
                       attribution_rows=attribution_rows, seed=seed, background=background)

    plain = Outcome("plain", measured(model), None, model, meta, plain_seconds)
    context = RepairContext(model=model, findings=findings, artifact=key, artifact_kind=kind, labels=labels,
                            text_column=train.text_column, validation=splits["validation"], seed=seed)
    outcomes = []
    for spec in repairs:
        repair = build(spec)
        name = repair.name if not isinstance(spec, tuple) else (
            f"{repair.name}({', '.join(f'{k}={v}' for k, v in spec[1].items())})")
        t0 = time.perf_counter()
        repaired: Repaired = repair(splits["train"], context)
        retrained, _, rmeta = train_on(recipe, dict(splits, train=repaired.train), sample_weight=repaired.sample_weight,
                                       label_probs=repaired.label_probs, progress=progress, cache_dir=cache_dir,
                                       **settings)
        outcomes.append(Outcome(name, measured(retrained), repaired, retrained, rmeta,
                                time.perf_counter() - t0))
    params = {"recipe": recipe, "settings": settings, "discoverer": discoverer, "artifact": key, "kind": kind,
              "label": labels[label], "seed": seed, "attribution_method": attribution_method,
              "attribution_rows": attribution_rows, "repairs": [o.name for o in outcomes],
              "planted": planted.params if planted is not None else None,
              "planted_rank": findings.rank_of(planted.key) if planted is not None else None}
    seconds = {"plain": plain_seconds, "discover": discover_seconds, "total": time.perf_counter() - start}
    result = Robustified(recipe, key, kind, labels[label], findings, plain, outcomes, params, seconds, views, edit)
    if n_examples and attribution_method is not None:
        result.examples = explained_pairs(result, n_examples, attribution_method, seed, background)
    return result

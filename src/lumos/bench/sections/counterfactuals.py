"""The counterfactual section: for the first rows of a bench run, what would flip each decision (a bench spec
asks for it with a ``[counterfactuals]`` table: ``rows`` plus keywords of ``lumos.counterfactuals.explain``)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np

from ...counterfactuals import CounterfactualExplainer, Constraints, CounterfactualSet
from ...errors import InputError
from ...registry import register
from .base import Section

SUMMARY_METRICS = ("validity", "sparsity", "proximity_numeric", "proximity_categorical", "diversity",
                   "plausibility_knn", "actionability", "seconds")


@register("counterfactuals", kind="section")
class CounterfactualSection(Section):
    title = "What would flip the decision"
    summary = "Counterfactuals for the first rows: before/after tables with the changed cells marked."
    modalities = ("tabular",)

    def run(self, model: Any, data: Any, settings: dict[str, Any], seed: int) -> list[CounterfactualSet]:
        """Counterfactuals for the first ``settings["rows"]`` (default 5) of the run's rows (n defaults to 3)."""
        settings = dict(settings)
        count = settings.pop("rows", 5)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise InputError(f"counterfactuals.rows must be a positive integer; got {count!r}.")
        settings.setdefault("n", 3)
        misplaced = [k for k in settings if k in {f.name for f in fields(Constraints)}]
        if misplaced:
            given = ", ".join(f"{k} = {settings[k]!r}" for k in misplaced)
            raise InputError(f"{', '.join(misplaced)} in the spec's [counterfactuals] table "
                             f"{'is a constraint' if len(misplaced) == 1 else 'are constraints'}: write it inside "
                             f"constraints, e.g. [counterfactuals] constraints = {{ {given} }}.")
        explainer = CounterfactualExplainer(model, data.train)
        rows = data.inputs
        return [explainer.explain(rows.iloc[[i]], seed=seed, **settings) for i in range(min(count, len(rows)))]

    def payload(self, result: list[CounterfactualSet], **context: Any) -> dict[str, Any]:
        """``result``: one CounterfactualSet per query row; ``context["settings"]`` the settings shown."""
        settings = {k: v for k, v in dict(context.get("settings") or {}).items() if k != "rows"}
        settings.setdefault("n", result[0].params.get("n") if result else None)
        return {"settings": settings, "summary": _summary(result),
                "queries": [_query(i, r) for i, r in enumerate(result)]}


def _summary(results: list[CounterfactualSet]) -> dict[str, Any]:
    """Means over the queries that got counterfactuals, and how many did."""
    found = [r for r in results if len(r)]
    means = {m: float(np.mean([r.metrics[m] for r in found])) for m in SUMMARY_METRICS
             if found and all(np.isfinite(r.metrics.get(m, np.nan)) for r in found)}
    return {"queries": len(results), "found": len(found), "metrics": means}


def _query(example_id: int, result: CounterfactualSet) -> dict[str, Any]:
    """One query's before/after table: per feature its original value and each counterfactual's value."""
    index = result.params.get("desired_index")
    p = (lambda out: None) if index is None else (lambda out: float(np.asarray(out)[index]))
    features = list(result.original.columns)
    cells = [[[_text(result.original[f].iloc[0]), False]]
             + [[_text(result.counterfactuals[f].iloc[i]), bool(result.changed[f].iloc[i])] for i in range(len(result))]
             for f in features]
    return {"example_id": example_id, "desired": str(result.desired), "method": result.method,
            "reason": result.reason, "features": features, "cells": cells,
            "p_original": p(result.original_prediction),
            "p_counterfactuals": [p(out) for out in result.predictions]}


def _text(value: Any) -> str:
    """A cell as shown: floats to 4 significant digits, everything else as is."""
    return f"{value:.4g}" if isinstance(value, (float, np.floating)) else str(value)

"""The report's counterfactual section: for the first rows of a bench run, what would flip each decision."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from .explainer import CounterfactualExplainer
from .result import CounterfactualSet

SUMMARY_METRICS = ("validity", "sparsity", "proximity_numeric", "proximity_categorical", "diversity",
                   "plausibility_knn", "actionability", "seconds")


def counterfactual_section(model: Any, train: pd.DataFrame, rows: pd.DataFrame, settings: dict[str, Any],
                           seed: int) -> dict[str, Any]:
    """Counterfactuals for the first ``settings["rows"]`` (default 5) of ``rows``, as the section's payload.

    ``settings``: ``rows`` plus keywords of ``CounterfactualExplainer.explain`` (n defaults to 3 here)."""
    settings = dict(settings)
    count = settings.pop("rows", 5)
    if not isinstance(count, int) or count < 1:
        raise InputError(f"counterfactuals.rows must be a positive integer; got {count!r}.")
    settings.setdefault("n", 3)
    explainer = CounterfactualExplainer(model, train)
    results = [explainer.explain(rows.iloc[[i]], seed=seed, **settings) for i in range(min(count, len(rows)))]
    return {"settings": {k: v for k, v in settings.items()}, "summary": _summary(results),
            "queries": [_query(i, r) for i, r in enumerate(results)]}


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

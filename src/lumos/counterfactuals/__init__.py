"""lumos.counterfactuals: what would have to change for the model's decision to flip?

    cfs = lumos.counterfactuals.explain(model, x, target=">50K", n=5, method="genetic", data=train, seed=0)
    cfs.counterfactuals, cfs.changed, cfs.metrics

Methods: "genetic", "random", "kdtree" (nearest training rows) for any model; "gradient" (DiCE's loss with a
DPP diversity term) for differentiable ones. Metrics work on counterfactuals from anywhere (``evaluate``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .. import registry
from ..deprecation import callable_module, renamed_keywords
from ..errors import InputError
from .constraints import Constraints
from .explainer import CounterfactualExplainer
from .metrics import METRICS
from .result import CounterfactualSet

__all__ = ["explain", "evaluate", "methods", "CounterfactualExplainer", "CounterfactualSet", "Constraints",
           "METRICS"]


def methods() -> list[str]:
    """Names of the counterfactual searches (``lumos.catalog("counterfactual")`` describes them)."""
    return registry.names("counterfactual")


def _need_data(data: Any) -> pd.DataFrame:
    if data is None:
        raise InputError("counterfactuals need the training rows: pass data=train (a DataFrame with the model's "
                         "features); they fix the ranges, MAD scales and categories. For a zoo model: "
                         "model, splits = lumos.zoo.load(name); data=splits['train'].")
    return data


@renamed_keywords(desired="target")
def explain(model: Any, x: Any, target: Any = None, n: int = 5, method: str = "genetic",
            constraints: Constraints | dict | None = None, seed: int = 0, *, data: pd.DataFrame | None = None,
            budget: int = 5000, **params: Any) -> CounterfactualSet:
    """Up to ``n`` counterfactuals for one row ``x`` (DataFrame row, Series or dict).

    ``target``: a class label or index (default: the other class of a binary classifier), or (low, high) for a
    regressor. ``constraints``: a ``Constraints`` or dict with immutable, vary, ranges, monotonic. ``data``:
    the training rows. ``budget``: the most candidate rows scored. Other keywords go to the method. For many
    rows, build one ``CounterfactualExplainer(model, data)`` and call its ``explain``.
    """
    return CounterfactualExplainer(model, _need_data(data)).explain(
        x, target=target, n=n, method=method, constraints=constraints, seed=seed, budget=budget, **params)


@renamed_keywords(desired="target")
def evaluate(model: Any, x: Any, counterfactuals: pd.DataFrame, *, data: pd.DataFrame | None = None,
             target: Any = None, constraints: Constraints | dict | None = None,
             seconds: float | None = None) -> dict[str, float]:
    """The metrics (see ``METRICS``) of counterfactuals from anywhere for the row ``x``."""
    return CounterfactualExplainer(model, _need_data(data)).evaluate(x, counterfactuals, target, constraints, seconds)


# ``lumos.counterfactuals(...)`` was this package's ``explain`` before it became a namespace (one release)
callable_module(__name__, explain, "lumos.counterfactuals(...)", "lumos.counterfactuals.explain(...)")

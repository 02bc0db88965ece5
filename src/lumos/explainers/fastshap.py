"""FastSHAP as a method: amortised Shapley values from a trained explainer network (``lumos.amortised``).

``lumos.explain(model, rows, "fastshap", explainer=fitted)`` with ``fitted = lumos.amortised.fit_fastshap(
model, train_rows, background=bg)``: each example costs the prediction pass and one forward pass of the
network. Without ``explainer``, the network is fitted on ``train`` (or, failing that, the ``background`` rows)
on first use and reused for the same model, rows and settings (so a bench fits it once).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..amortised.fastshap import MIN_ROWS, FastShap, fit_fastshap
from ..errors import InputError
from ..features.removal import BACKGROUND
from ..params import Instance, Int, Optional, param
from ..registry import register
from .base import Attribution, Explainer

_FITTED: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()


@register("fastshap")
@dataclass(frozen=True)
class FastShapMethod(Explainer):
    """``explainer``: a fitted ``FastShap``; else ``train`` rows (default: ``background``) to fit one on, with
    ``n_coalitions`` per row and ``epochs`` (see ``lumos.amortised.fit_fastshap``)."""

    summary = "Amortised Shapley values: a network trained with the Shapley loss, one forward pass per example."
    modalities = ("tabular",)
    random = True
    plain = ("Shapley values (each feature's fair share of the prediction) predicted by a small network trained "
             "beforehand on many examples, so each new example costs one pass.")
    misleads = ("The network learns an approximation: on inputs unlike its training rows the values can be off; "
                "check its error against kernel_shap on a sample.")
    explainer: Any = param(None, Optional(Instance("a FastShap from lumos.amortised.fit_fastshap", "attributions")))
    train: Any = param(None, BACKGROUND)
    background: Any = param(None, BACKGROUND)
    n_coalitions: int = param(32, Int(low=2))
    epochs: int = param(50, Int(low=1))

    def attribute(self, model, batch, targets, probs, seed):
        fitted = self.explainer if self.explainer is not None else self._fit(model, seed)
        if not isinstance(fitted, FastShap):
            raise InputError(f"fastshap's explainer must be a FastShap from lumos.amortised.fit_fastshap; got "
                             f"{type(fitted).__name__}.")
        if batch.x.shape[1] != fitted.n_features:
            raise InputError(f"the FastSHAP explainer was trained on {fitted.n_features} columns; the inputs have "
                             f"{batch.x.shape[1]}.")
        phi = fitted.attributions(batch.x, probs)
        return [Attribution(phi[i, :, t].astype(np.float32),
                            {"base_value": float(fitted.empty_value[t]), "n_evaluations": 0, "amortised": True})
                for i, t in enumerate(targets)]

    def _fit(self, model, seed: int) -> FastShap:
        rows = self.train if self.train is not None else self.background
        if rows is None or self.background is None:
            raise InputError("fastshap needs explainer=lumos.amortised.fit_fastshap(...), or background= rows "
                             "(and train= rows to fit on; default: the background rows).")
        if len(rows) < MIN_ROWS:
            which = "train" if self.train is not None else "background"
            raise InputError(f"fastshap trains its network on the {which}= rows and needs at least {MIN_ROWS}; got "
                             f"{len(rows)}. Pass more rows as train=, or a fitted explainer=.")
        key = (id(rows), id(self.background), self.n_coalitions, self.epochs, seed)
        cache = _cache_for(model)
        if key not in cache:
            cache[key] = fit_fastshap(model, rows, background=self.background, n_coalitions=self.n_coalitions,
                                      epochs=self.epochs, seed=seed)
        return cache[key]


def _cache_for(model) -> dict:
    """Fitted explainers of the network or function under ``model`` (adapters are re-made on every call)."""
    inner = next((getattr(model, a) for a in ("module", "estimator", "fn", "model") if hasattr(model, a)), model)
    try:
        return _FITTED.setdefault(inner, {})
    except TypeError:  # not weakly referenceable: keep them with the adapter
        return _FITTED.setdefault(model, {})

"""Every registered method and metric passes the public conformance kit (``lumos.testing``): shapes,
determinism, batch invariance, no side effects. A newly registered plug-in is covered here with no edit (the
budgets below only make the runs fast); a user's own plug-in is checked with the same two calls."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

import lumos
from lumos import registry
from lumos.explainers.base import Attribution, Explainer
from lumos.testing import check_explainer, check_metric

FAST = {"lime": {"n_samples": 64}, "kernel_shap": {"n_samples": 64}, "smoothgrad": {"n_samples": 6},
        "gradient_shap": {"n_samples": 6}, "integrated_gradients": {"steps": 8},
        "exact_shapley": {"n_segments": 9}, "leverage_shap": {"n_samples": 64},
        "regression_shap": {"n_samples": 64, "n_segments": 12}, "permutation_shap": {"n_samples": 64, "n_segments": 9},
        "stratified_shap": {"n_samples": 250, "n_segments": 9},
        "fastshap": {"background": np.random.default_rng(5).normal(size=(40, 6)), "epochs": 3}}
FAST_METRICS = {"mprt": {"max_layers": 2}, "max_sensitivity": {"n_samples": 3}, "infidelity": {"n_samples": 8},
                "nle_counterfactual": {"n_samples": 10}, "road": {"levels": (0.2, 0.5)}}


def _cases(kind):
    return [pytest.param(name, modality, id=f"{name}-{modality}")
            for name, info in registry.describe(kind).items() for modality in info["modalities"]]


@pytest.mark.parametrize("name,modality", _cases("explainer"))
def test_every_explainer_passes_the_kit(name, modality):
    params = {k: v for k, v in FAST.get(name, {}).items() if modality == "image" or k != "n_segments"}
    check_explainer(registry.get(name), (modality,), **params)


@pytest.mark.parametrize("name,modality", _cases("metric"))
def test_every_metric_passes_the_kit(name, modality):
    check_metric(registry.get(name, "metric"), (modality,), **FAST_METRICS.get(name, {}))


def test_every_plugin_has_the_same_metadata_shape():
    for kind in registry.KINDS:
        for name, meta in registry.describe(kind).items():
            assert {"kind", "summary", "modalities", "params", "requires"} <= set(meta), (kind, name)
            assert meta["summary"] and meta["modalities"], (kind, name)
            assert set(meta["requires"]) <= set(lumos.models.base.CAPABILITIES), (kind, name, meta["requires"])


@dataclass(frozen=True)
class _Peeking(Explainer):
    """A user's method that is wrong on purpose: its first example's score depends on the batch size."""

    summary = "batch-dependent on purpose"

    def attribute(self, model, batch, targets, probs, seed):
        n = len(batch)
        return [Attribution(np.full(batch.x.shape[1], float(n), dtype=np.float32)) for _ in range(n)]


@dataclass(frozen=True)
class _Honest(Explainer):
    """A user's method done right: each feature's value times a fixed weight."""

    summary = "x times a weight"

    def attribute(self, model, batch, targets, probs, seed):
        return [Attribution((x * 0.5).astype(np.float32)) for x in batch.x]


def test_the_kit_fails_a_batch_dependent_method_and_passes_a_correct_one():
    assert check_explainer(_Honest, ("tabular",)) == ["tabular"]
    with pytest.raises(AssertionError, match="alone differs from it in a batch"):
        check_explainer(_Peeking, ("tabular",))

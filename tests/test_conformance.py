"""Every registered method, on every modality it claims: deterministic, batch-invariant, side-effect free.

A newly registered method is covered here with no edit (budgets below only make the runs fast)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import lumos
from conftest import SENTENCES, make_cnn, make_mlp

FAST = {"lime": {"n_samples": 64}, "kernel_shap": {"n_samples": 64}, "smoothgrad": {"n_samples": 6},
        "gradient_shap": {"n_samples": 6}, "integrated_gradients": {"steps": 8},
        "exact_shapley": {"n_segments": 9}, "leverage_shap": {"n_samples": 64},
        "regression_shap": {"n_samples": 64, "n_segments": 12}, "permutation_shap": {"n_samples": 64, "n_segments": 9},
        "stratified_shap": {"n_samples": 250, "n_segments": 9},
        "fastshap": {"background": np.random.default_rng(5).normal(size=(40, 6)), "epochs": 3}}


def _case_list():
    out = []
    for name, info in lumos.methods().items():
        for modality in info["modalities"]:
            out.append(pytest.param(name, modality, id=f"{name}-{modality}"))
    return out


def _setup(modality, request):
    if modality == "image":
        module = make_cnn()
        return module, module, np.random.default_rng(0).random((8, 3, 16, 16)).astype(np.float32)
    if modality == "tabular":
        module = make_mlp()
        return module, module, np.random.default_rng(1).normal(size=(8, 6))
    bert, tok = request.getfixturevalue("tiny_bert"), request.getfixturevalue("tokenizer")
    return bert, (bert, tok), list(SENTENCES)


def _params(name, modality):
    params = dict(FAST.get(name, {}))
    if modality != "image":
        params.pop("n_segments", None)
    return params


@pytest.mark.parametrize("name,modality", _case_list())
def test_same_call_twice_gives_identical_results(name, modality, request):
    """Bitwise with a fixed batch size; with the timed "auto" size, chunking may reassociate float sums."""
    module, model, inputs = _setup(modality, request)
    params = _params(name, modality)
    a = lumos.explain(model, inputs[:3], method=name, batch_size=7, **params)
    b = lumos.explain(model, inputs[:3], method=name, batch_size=7, **params)
    c = lumos.explain(model, inputs[:3], method=name, **params)
    for ea, eb, ec in zip(a, b, c):
        np.testing.assert_array_equal(ea.attributions, eb.attributions)
        np.testing.assert_allclose(ea.attributions, ec.attributions, atol=1e-6, rtol=1e-5)
        assert ea.params == eb.params and ea.params["seed"] == 0
        assert ea.attributions.dtype == np.float32


@pytest.mark.parametrize("name,modality", _case_list())
def test_an_example_alone_equals_it_inside_a_batch(name, modality, request):
    module, model, inputs = _setup(modality, request)
    batch = lumos.explain(model, inputs, method=name, **_params(name, modality))
    assert len(batch) == 8
    for i in (0, 5):
        alone = lumos.explain(model, inputs[i:i + 1], method=name, **_params(name, modality))[0]
        np.testing.assert_allclose(alone.attributions, batch[i].attributions, atol=1e-5, rtol=1e-4)
        assert alone.features == batch[i].features and alone.target == batch[i].target


@pytest.mark.parametrize("name,modality", _case_list())
def test_no_side_effects_on_model_or_inputs(name, modality, request):
    module, model, inputs = _setup(modality, request)
    module.train()
    before = copy.deepcopy(module.state_dict())
    hooks = sum(len(m._forward_hooks) + len(m._backward_hooks) + len(m._forward_pre_hooks) for m in module.modules())
    snapshot = copy.deepcopy(inputs)
    attn = getattr(getattr(module, "config", None), "_attn_implementation", None)
    try:
        lumos.explain(model, inputs[:2], method=name, **_params(name, modality))
        assert all(m.training for m in module.modules())
        after = module.state_dict()
        assert all(torch.equal(before[k], after[k]) for k in before)
        assert all(p.grad is None for p in module.parameters())
        assert hooks == sum(len(m._forward_hooks) + len(m._backward_hooks) + len(m._forward_pre_hooks)
                            for m in module.modules())
        assert getattr(getattr(module, "config", None), "_attn_implementation", None) == attn
        if isinstance(inputs, np.ndarray):
            np.testing.assert_array_equal(inputs, snapshot)
        else:
            assert inputs == snapshot
    finally:
        module.eval()


def test_every_method_has_metadata():
    info = lumos.methods()
    assert set(info) == {"saliency", "input_x_gradient", "smoothgrad", "integrated_gradients", "gradient_shap",
                         "occlusion", "lime", "kernel_shap", "exact_shapley", "gradcam", "gradcam_pp", "attention",
                         "random", "leverage_shap", "regression_shap", "permutation_shap", "stratified_shap", "fastshap"}
    for name, meta in info.items():
        assert meta["summary"] and meta["modalities"], name
        assert isinstance(meta["params"], dict)

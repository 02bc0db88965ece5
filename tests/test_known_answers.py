"""Methods against answers known without them: axioms, hand-worked games, closed forms."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import lumos
from conftest import SENTENCES, make_cnn


# ----- Integrated gradients: completeness ---------------------------------------------------------------
def _smooth_cnn() -> nn.Module:
    """A small CNN with GELU: on ReLU nets the path integral has kinks, and any 64-point quadrature (captum's
    included, checked to agree to 1e-6) misses completeness by ~2%; that is the method, not the code."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.GELU(), nn.Conv2d(8, 8, 3, stride=2), nn.GELU(),
                        nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(32, 3))
    with torch.no_grad():
        net[-1].weight.mul_(10.0)
    return net


def test_ig_completeness_on_a_cnn():
    x = np.random.default_rng(0).random((4, 3, 16, 16)).astype(np.float32)
    for rule, output in [("gausslegendre", "probability"), ("riemann_trapezoid", "probability"),
                         ("gausslegendre", "logit")]:
        expl = lumos.explain(_smooth_cnn(), x, method="integrated_gradients", steps=64, rule=rule, output=output)
        for e in expl:
            gap = e.extras["f_x"] - e.extras["f_baseline"]
            assert abs(gap) > 1e-2
            assert abs(e.attributions.sum(dtype=np.float64) - gap) <= 0.01 * abs(gap)
            assert e.extras["delta"] == pytest.approx(e.attributions.sum(dtype=np.float64) - gap, abs=1e-6)


def test_ig_completeness_on_a_bert_classifier(tiny_bert, tokenizer):
    for baseline in ("pad", "mask", "zeros"):
        expl = lumos.explain((tiny_bert, tokenizer), SENTENCES[:4], method="integrated_gradients", steps=64,
                             baseline=baseline)
        for e in expl:
            gap = e.extras["f_x"] - e.extras["f_baseline"]
            assert abs(gap) > 1e-3, baseline
            assert abs(e.attributions.sum(dtype=np.float64) - gap) <= 0.01 * abs(gap)


def test_ig_baseline_really_is_the_pad_sequence(tiny_bert, tokenizer):
    """f(baseline) equals the model's probability on [CLS] [PAD]... [SEP] fed as token ids."""
    e = lumos.explain((tiny_bert, tokenizer), ["a fine film"], method="integrated_gradients", target=1)[0]
    ids = tokenizer(["a fine film"])["input_ids"][0]
    pads = [ids[0]] + [tokenizer.pad_token_id] * (len(ids) - 2) + [ids[-1]]
    with torch.no_grad():
        p = torch.softmax(tiny_bert(input_ids=torch.tensor([pads])).logits, 1)[0, 1].item()
    assert e.extras["f_baseline"] == pytest.approx(p, abs=1e-6)


def _linear_logit_model(w: np.ndarray) -> nn.Module:
    """Two classes with logits (0, w.x): the target-1 logit is linear, so gradient methods have closed forms."""
    lin = nn.Linear(len(w), 2)
    with torch.no_grad():
        lin.weight.zero_()
        lin.weight[1] = torch.tensor(w, dtype=torch.float32)
        lin.bias.zero_()
    return lin


def test_gradient_methods_on_a_linear_logit_have_closed_forms():
    w = np.array([1.5, -2.0, 0.5, 0.0])
    x = np.array([[1.0, 2.0, -1.0, 3.0]])
    model = _linear_logit_model(w)
    kw = dict(target=1, output="logit")
    np.testing.assert_allclose(lumos.explain(model, x, method="saliency", **kw)[0].attributions, np.abs(w), atol=1e-6)
    np.testing.assert_allclose(lumos.explain(model, x, method="input_x_gradient", **kw)[0].attributions, w * x[0],
                               atol=1e-6)
    np.testing.assert_allclose(lumos.explain(model, x, method="integrated_gradients", **kw)[0].attributions,
                               w * x[0], atol=1e-5)
    smooth = lumos.explain(model, x, method="smoothgrad", absolute=False, **kw)[0].attributions
    np.testing.assert_allclose(smooth, w, atol=1e-5)  # noise does not change a constant gradient
    bg = np.array([[0.5, 0.5, 0.5, 0.5]])
    gshap = lumos.explain(model, x, method="gradient_shap", background=bg, **kw)[0].attributions
    np.testing.assert_allclose(gshap, w * (x[0] - bg[0]), atol=1e-5)


# ----- Shapley values --------------------------------------------------------------------------------------
GAME = {(): 0.1, (0,): 0.2, (1,): 0.3, (2,): 0.1, (0, 1): 0.6, (0, 2): 0.4, (1, 2): 0.5, (0, 1, 2): 0.9}


def _game_model(rows: np.ndarray) -> np.ndarray:
    """p(class 1) = v(S), S = the features that are 1 in the row (removed features take the background 0)."""
    v = np.array([GAME[tuple(np.flatnonzero(r > 0.5))] for r in rows])
    return np.stack([1 - v, v], axis=1)


def test_exact_shapley_matches_a_hand_computed_three_player_game():
    # phi_1 = 1/3 (0.2-0.1) + 1/6 (0.6-0.3) + 1/6 (0.4-0.1) + 1/3 (0.9-0.5) = 4/15
    # phi_2 = 1/3 (0.3-0.1) + 1/6 (0.6-0.2) + 1/6 (0.5-0.1) + 1/3 (0.9-0.4) = 11/30
    # phi_3 = 1/3 (0.1-0.1) + 1/6 (0.4-0.2) + 1/6 (0.5-0.3) + 1/3 (0.9-0.6) = 1/6
    e = lumos.explain(_game_model, np.ones((1, 3)), method="exact_shapley", target=1)[0]
    np.testing.assert_allclose(e.attributions, [4 / 15, 11 / 30, 1 / 6], atol=1e-6)
    assert e.extras["base_value"] == pytest.approx(0.1)
    ks = lumos.explain(_game_model, np.ones((1, 3)), method="kernel_shap", target=1, n_samples=8)[0]
    assert ks.extras["exact"]
    np.testing.assert_allclose(ks.attributions, [4 / 15, 11 / 30, 1 / 6], atol=1e-6)


def _mlp(features: int, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(features, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 2))


def test_kernel_shap_is_exact_when_the_budget_covers_every_coalition():
    rng = np.random.default_rng(0)
    x, bg = rng.normal(size=(3, 10)), rng.normal(size=(5, 10))
    model = _mlp(10)
    exact = lumos.explain(model, x, method="exact_shapley", background=bg)
    kshap = lumos.explain(model, x, method="kernel_shap", background=bg, n_samples=2**10)
    for a, b in zip(exact, kshap):
        assert b.extras["exact"] and b.extras["n_evaluations"] == 2**10 - 1
        np.testing.assert_allclose(b.attributions, a.attributions, atol=1e-6)
        assert b.attributions.sum() == pytest.approx(a.probs[a.target] - a.extras["base_value"], abs=1e-5)


def test_kernel_shap_error_at_2000_evaluations_on_12_features():
    rng = np.random.default_rng(1)
    x, bg = rng.normal(size=(6, 12)) * 1.5, rng.normal(size=(1, 12))
    model = _mlp(12, seed=3)
    exact = lumos.explain(model, x, method="exact_shapley", background=bg, max_features=12)
    kshap = lumos.explain(model, x, method="kernel_shap", background=bg, n_samples=2000)
    errors = [np.abs(a.attributions - b.attributions).max() for a, b in zip(exact, kshap)]
    scale = max(np.abs(a.attributions).max() for a in exact)
    assert scale > 0.05  # the values are not trivially small
    assert max(errors) <= 0.02
    assert all(b.extras["n_evaluations"] <= 2000 for b in kshap)


# ----- Linear models: LIME and kernel SHAP recover w * (x - background) ------------------------------------
W = np.array([0.08, -0.05, 0.03, 0.0, 0.06])


def _linear_prob(rows: np.ndarray) -> np.ndarray:
    p = 0.5 + rows @ W
    return np.stack([1 - p, p], axis=1)


@pytest.mark.parametrize("method", ["lime", "kernel_shap", "exact_shapley", "occlusion"])
def test_perturbation_methods_recover_linear_coefficients(method):
    rng = np.random.default_rng(2)
    x, bg = rng.normal(size=(4, 5)), rng.normal(size=(20, 5))
    expl = lumos.explain(_linear_prob, x, method=method, target=1, background=bg)
    for xi, e in zip(x, expl):
        np.testing.assert_allclose(e.attributions, W * (xi - bg.mean(0)), atol=2e-4)


# ----- Occlusion on text is the drop in probability, word by word ----------------------------------------
def test_text_occlusion_equals_the_probability_drop_by_hand(tfidf_pipeline):
    text = "great acting but a dull and boring script"
    e = lumos.explain(tfidf_pipeline, [text], method="occlusion")[0]
    words = text.split()
    p = tfidf_pipeline.predict_proba([text])[0, e.target]
    by_hand = [p - tfidf_pipeline.predict_proba([" ".join(words[:j] + words[j + 1:])])[0, e.target]
               for j in range(len(words))]
    assert e.features == words
    np.testing.assert_allclose(e.attributions, by_hand, atol=1e-6)


def test_bert_occlusion_deleting_tokens_equals_retokenizing_the_shorter_text(tiny_bert, tokenizer):
    text = "dull, predictable and far too long"
    e = lumos.explain((tiny_bert, tokenizer), [text], method="occlusion", target=1)[0]
    words = text.split()

    def prob(t: str) -> float:
        with torch.no_grad():
            return torch.softmax(tiny_bert(**tokenizer([t], return_tensors="pt")).logits, 1)[0, 1].item()

    by_hand = [prob(text) - prob(" ".join(words[:j] + words[j + 1:])) for j in range(len(words))]
    np.testing.assert_allclose(e.attributions, by_hand, atol=1e-5)


def test_image_occlusion_of_one_window_covering_the_image_is_the_drop_to_the_baseline():
    x = np.random.default_rng(3).random((1, 3, 16, 16)).astype(np.float32)
    model = lumos.wrap(make_cnn())
    e = lumos.explain(model, x, method="occlusion", window=16)[0]
    p = model.predict_proba(x)[0, e.target]
    p0 = model.predict_proba(np.zeros_like(x))[0, e.target]
    np.testing.assert_allclose(e.attributions, np.full((1, 16, 16), p - p0), atol=1e-6)


# ----- Grad-CAM on a toy CNN, by hand ---------------------------------------------------------------------
def _toy_cam_cnn() -> nn.Module:
    """1x1 conv (1 -> 2 channels) -> global average pool -> linear: dlogit_c/dA_k = W[c, k] / (h w)."""
    conv = nn.Conv2d(1, 2, 1)
    with torch.no_grad():
        conv.weight[:] = torch.tensor([1.0, -0.5]).reshape(2, 1, 1, 1)
        conv.bias[:] = torch.tensor([0.1, 0.2])
    head = nn.Linear(2, 2)
    with torch.no_grad():
        head.weight[:] = torch.tensor([[0.3, -1.0], [2.0, 0.7]])
        head.bias.zero_()
    return nn.Sequential(conv, nn.AdaptiveAvgPool2d(1), nn.Flatten(), head)


def test_gradcam_and_gradcam_pp_equal_a_hand_computation():
    x = np.random.default_rng(4).normal(size=(1, 1, 4, 4)).astype(np.float32)
    acts = np.stack([1.0 * x[0, 0] + 0.1, -0.5 * x[0, 0] + 0.2])  # (2, 4, 4)
    head = np.array([[0.3, -1.0], [2.0, 0.7]])
    for target in (0, 1):
        g = head[target] / 16.0  # the gradient is constant over the map
        cam = np.maximum((g[:, None, None] * acts).sum(0), 0)
        e = lumos.explain(_toy_cam_cnn(), x, method="gradcam", target=target, upsample=False)[0]
        np.testing.assert_allclose(e.attributions[0], cam, atol=1e-6)
        alpha = g**2 / (2 * g**2 + (acts * g[:, None, None] ** 3).sum((1, 2)))
        weights = alpha * np.maximum(g, 0) * 16
        cam_pp = np.maximum((weights[:, None, None] * acts).sum(0), 0)
        e = lumos.explain(_toy_cam_cnn(), x, method="gradcam_pp", target=target, upsample=False)[0]
        np.testing.assert_allclose(e.attributions[0], cam_pp, atol=1e-6)


def test_gradcam_upsamples_to_the_input_size():
    x = np.random.default_rng(5).random((2, 3, 16, 16)).astype(np.float32)
    e = lumos.explain(make_cnn(), x, method="gradcam", layer="0")[0]
    assert e.attributions.shape == (1, 16, 16) and e.extras["layer"] == "0"
    assert (e.attributions >= 0).all()


# ----- Attention --------------------------------------------------------------------------------------------
def test_attention_last_layer_and_rollout_by_hand(tiny_bert, tokenizer):
    text = "quietly devastating film"
    enc = tokenizer([text], return_tensors="pt")
    tiny_bert.set_attn_implementation("eager")
    try:
        with torch.no_grad():
            att = [a[0].mean(0) for a in tiny_bert(**enc, output_attentions=True).attentions]  # (T, T) per layer
    finally:
        tiny_bert.set_attn_implementation("sdpa")
    last = lumos.explain((tiny_bert, tokenizer), [text], method="attention", mode="last_layer")[0]
    np.testing.assert_allclose(last.attributions, att[-1][0, 1:-1].numpy(), atol=1e-6)  # one piece per word
    eye = torch.eye(att[0].shape[0])
    flow = eye
    for a in att:
        m = 0.5 * a + 0.5 * eye
        flow = (m / m.sum(-1, keepdim=True)) @ flow
    roll = lumos.explain((tiny_bert, tokenizer), [text], method="attention")[0]
    np.testing.assert_allclose(roll.attributions, flow[0, 1:-1].numpy(), atol=1e-6)

"""Grad-CAM++ and IOU F1 against formulas written here from the papers, independently of lumos's code, on
inputs where the earlier shortcuts gave different numbers (spatially varying gradients; touching evidence
spans), and a callable's one-score-per-row output validated like any other."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import lumos
from lumos import Explanation, Explanations, ModelError


# ----- Grad-CAM++ (Chattopadhay et al. 2018, eq. 19) --------------------------------------------------------
def conv_relu_pool_conv_relu_linear(seed: int = 0) -> nn.Module:
    """The last conv's map feeds a linear layer through a ReLU: its gradient varies from pixel to pixel."""
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 5, 3, padding=1),
                        nn.ReLU(), nn.Flatten(), nn.Linear(5 * 6 * 6, 3))
    with torch.no_grad():
        net[-1].weight.mul_(20.0)  # logits of a trained network's scale (|logit| ~ 10)
    return net


def activations_and_gradients(net: nn.Module, x: np.ndarray, target: int) -> tuple[np.ndarray, np.ndarray]:
    """(K, h, w) output of the last Conv2d and the gradient of the target logit with respect to it."""
    seen = []
    handle = net[3].register_forward_hook(lambda m, i, o: seen.append(o))
    try:
        logits = net(torch.as_tensor(x))
        (g,) = torch.autograd.grad(logits[0, target], seen[0])
    finally:
        handle.remove()
    return seen[0][0].detach().double().numpy(), g[0].double().numpy()


def gradcam_pp_by_the_paper(a: np.ndarray, g: np.ndarray) -> np.ndarray:
    """alpha_kij = g_kij^2 / (2 g_kij^2 + sum_ab A_kab * g_kij^3) (0 where the denominator is 0);
    w_k = sum_ij alpha_kij relu(g_kij); map = relu(sum_k w_k A_k)."""
    out = np.zeros(a.shape[1:])
    for k in range(a.shape[0]):
        total = a[k].sum()
        w = 0.0
        for i in range(a.shape[1]):
            for j in range(a.shape[2]):
                den = 2 * g[k, i, j] ** 2 + total * g[k, i, j] ** 3
                alpha = g[k, i, j] ** 2 / den if den != 0 else 0.0
                w += alpha * max(g[k, i, j], 0.0)
        out += w * a[k]
    return np.maximum(out, 0.0)


def channel_constant_denominator(a: np.ndarray, g: np.ndarray) -> np.ndarray:
    """The earlier shortcut: 2 g^2 + sum_ab A_ab g_ab^3, one denominator per channel."""
    den = 2 * g**2 + (a * g**3).sum(axis=(1, 2), keepdims=True)
    alpha = np.where(den != 0, g**2 / np.where(den != 0, den, 1), 0)
    return np.maximum(((alpha * np.maximum(g, 0)).sum(axis=(1, 2))[:, None, None] * a).sum(0), 0)


def test_gradcam_pp_follows_eq_19_per_pixel_on_spatially_varying_gradients():
    net = conv_relu_pool_conv_relu_linear()
    x = np.random.default_rng(0).random((4, 3, 12, 12)).astype(np.float32)
    expl = lumos.explain(net, x, method="gradcam_pp", upsample=False, target=[0, 1, 2, 0], batch_size=4)
    apart = []
    for i, e in enumerate(expl):
        a, g = activations_and_gradients(net, x[i:i + 1], e.target)
        assert np.ptp(g, axis=(1, 2)).max() > 0.1  # the gradient really varies over each channel's map
        expected = gradcam_pp_by_the_paper(a, g)
        np.testing.assert_allclose(e.attributions[0], expected, rtol=2e-4, atol=1e-5 * expected.max())
        shortcut = channel_constant_denominator(a, g)
        apart.append(np.abs(shortcut - expected).max() / max(expected.max(), 1e-12))
    assert max(apart) > 0.1  # the earlier formula would have failed this test


def test_where_the_gradient_is_constant_eq_19_and_the_channel_form_coincide():
    """Global average pooling straight after the layer (dlogit/dA = W / (h w)): a check of the reference."""
    torch.manual_seed(1)
    net = nn.Sequential(nn.Conv2d(1, 3, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 2))
    x = np.random.default_rng(1).normal(size=(1, 1, 5, 5)).astype(np.float32)
    e = lumos.explain(net, x, method="gradcam_pp", target=1, upsample=False)[0]
    a = net[0](torch.as_tensor(x))[0].detach().double().numpy()
    g = np.broadcast_to(net[3].weight[1].detach().double().numpy()[:, None, None] / 25, a.shape)
    np.testing.assert_allclose(e.attributions[0], gradcam_pp_by_the_paper(a, g), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(gradcam_pp_by_the_paper(a, g), channel_constant_denominator(a, g), rtol=1e-9)


# ----- IOU F1 (ERASER, DeYoung et al. 2020) -----------------------------------------------------------------
def eraser_partial_match(gold: list[list[tuple[int, int]]], pred: list[list[tuple[int, int]]], threshold=0.5):
    """Written from ERASER's definition: a predicted span matches when its best token-set IOU with a gold span
    of the same document reaches the threshold. Per document precision = matches / predicted spans, recall =
    matches / gold spans; macro = the means over documents that have predicted (resp. gold) spans; F1 of those."""
    per_p, per_r, rows = [], [], []
    for g_doc, p_doc in zip(gold, pred):
        matches = 0
        for p in p_doc:
            p_set = set(range(*p))
            best = max((len(p_set & set(range(*g))) / len(p_set | set(range(*g))) for g in g_doc
                        if p_set | set(range(*g))), default=0.0)
            matches += best >= threshold
        precision = matches / len(p_doc) if p_doc else 0.0
        recall = matches / len(g_doc) if g_doc else 0.0
        if p_doc:
            per_p.append(precision)
        if g_doc:
            per_r.append(recall)
        rows.append((precision, recall))
    mp, mr = float(np.mean(per_p)), float(np.mean(per_r))
    return rows, mp, mr, 2 * mp * mr / (mp + mr) if mp + mr else 0.0


def _given(scores: list[list[float]]) -> tuple[list[str], Explanations]:
    texts = [" ".join(f"w{j}" for j in range(len(s))) for s in scores]
    expl = Explanations([Explanation(np.asarray(s, np.float32), t.split(), 1, np.array([0.5, 0.5], np.float32),
                                     "given", {"granularity": "word"}) for s, t in zip(scores, texts)])
    return texts, expl


def flat(texts):
    return np.full((len(texts), 2), 0.5)


def test_touching_gold_spans_stay_two_spans_as_eraser_scores_them():
    texts, expl = _given([[5, 4, 3, 2, 0, 0]])  # top-4 by the mean gold length: the span (0, 4)
    gold = [[(0, 1), (1, 4)]]
    s = lumos.evaluate(flat, texts, expl, metrics=["iou_f1"], rationales=gold)
    # (0, 4) meets (0, 1) at IOU 1/4 and (1, 4) at 3/4: one match; precision 1/1, recall 1/2
    assert s.details["iou_f1"]["precision"][0] == 1.0 and s.details["iou_f1"]["recall"][0] == 0.5
    assert s["iou_f1"][0] == pytest.approx(2 / 3)
    assert s.details["iou_f1"]["n_gold_spans"][0] == 2
    merged = lumos.evaluate(flat, texts, expl, metrics=["iou_f1"], rationales=[np.array([1, 1, 1, 1, 0, 0], bool)])
    assert merged["iou_f1"][0] == 1.0  # a boolean mask has no span boundaries: one span


@pytest.mark.parametrize("seed", range(5))
def test_iou_f1_and_eraser_aggregate_equal_the_reference_on_random_spans(seed):
    rng = np.random.default_rng(seed)
    scores, gold = [], []
    for _ in range(12):
        n = int(rng.integers(4, 15))
        scores.append(list(rng.normal(size=n)))
        cuts = sorted(set(rng.integers(0, n + 1, size=int(rng.integers(1, 6))).tolist()))
        spans = [(a, b) for a, b in zip(cuts, cuts[1:]) if rng.random() < 0.7]  # often touching
        gold.append(spans)
    texts, expl = _given(scores)
    for k in (1, 2, 3):
        s = lumos.evaluate(flat, texts, expl, metrics=[("iou_f1", {"rule": "top_k", "value": k})], rationales=gold)
        preds = [lumos.rationales.spans(lumos.rationales.top_k(np.asarray(sc), k)) for sc in scores]
        rows, mp, mr, f1 = eraser_partial_match(gold, preds)
        details = s.details["iou_f1"]
        for i, (p, r) in enumerate(rows):
            if gold[i] or preds[i]:
                assert details["precision"][i] == pytest.approx(p) and details["recall"][i] == pytest.approx(r)
        assert details["eraser_precision"] == pytest.approx(mp) and details["eraser_recall"] == pytest.approx(mr)
        assert details["eraser_f1"] == pytest.approx(f1)


# ----- a callable's one score per row ------------------------------------------------------------------------
def test_one_score_per_row_is_validated_like_any_output():
    x = np.zeros((3, 4))
    with pytest.raises(ModelError, match=r"one value per row, read as p\(class 1\), and row 0 has 300.0"):
        lumos.explain(lambda rows: np.full(len(rows), 300.0), x, method="occlusion")
    with pytest.raises(ModelError, match=r"row 1 has nan"):
        lumos.explain(lambda rows: np.array([0.5, np.nan, 0.5][:len(rows)]), x, method="occlusion", batch_size=3)
    p = lumos.wrap(lambda rows: np.full(len(rows), 0.25)).predict_proba(x)
    np.testing.assert_allclose(p, [[0.75, 0.25]] * 3)

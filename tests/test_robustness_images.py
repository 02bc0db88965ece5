"""FGSM and PGD: exact steps on a linear model, budgets respected, no side effects, explanation shift."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import lumos
from lumos.robustness import image_attack
from conftest import make_cnn


def linear_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 2))


def images(n: int = 6) -> np.ndarray:
    """Pixels in [0.3, 0.7], so steps of up to 0.25 never reach the [0, 1] bounds."""
    return (0.3 + 0.4 * np.random.default_rng(0).random((n, 3, 4, 4))).astype(np.float32)


def loss_gradient_sign(net: nn.Module, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """For a linear 2-class model the cross-entropy gradient in x is (p_y - 1) * (w_y - w_other): its sign is
    sign(w_other - w_y), the same at every point."""
    w = net[1].weight.detach().numpy()
    diff = np.stack([w[1 - k] - w[k] for k in y]).reshape(x.shape)
    return np.sign(diff)


def test_fgsm_and_pgd_linf_take_the_exact_corner_of_the_box_on_a_linear_model():
    net, x = linear_model(), images()
    y = np.array([0, 1, 0, 1, 0, 1])
    expected = x + 0.05 * loss_gradient_sign(net, x, y)
    fgsm = image_attack(net, x, y, "fgsm", epsilons=[0.05], explain_method=None)
    assert np.abs(fgsm.per_epsilon[0].adversarial - expected).max() < 1e-6
    # a linear objective over the L-inf ball is maximised at that corner: PGD must land there too
    pgd = image_attack(net, x, y, "pgd", epsilons=[0.05], steps=20, explain_method=None)
    assert np.abs(pgd.per_epsilon[0].adversarial - expected).max() < 1e-6


def test_l2_steps_follow_the_normalised_gradient_and_stay_in_the_ball():
    net, x = linear_model(), images()
    y = np.array([1, 1, 0, 0, 1, 0])
    w = net[1].weight.detach().numpy()
    direction = np.stack([w[1 - k] - w[k] for k in y]).reshape(x.shape)
    direction /= np.linalg.norm(direction.reshape(len(x), -1), axis=1).reshape(-1, 1, 1, 1)
    fgm = image_attack(net, x, y, "fgsm", epsilons=[0.5], norm="l2", explain_method=None)
    assert np.abs(fgm.per_epsilon[0].adversarial - (x + 0.5 * direction)).max() < 1e-5
    pgd = image_attack(net, x, y, "pgd", epsilons=[0.5], norm="l2", steps=30, explain_method=None)
    d = (pgd.per_epsilon[0].adversarial - x).reshape(len(x), -1)
    assert np.linalg.norm(d, axis=1).max() <= 0.5 + 1e-5
    cosine = (d * direction.reshape(len(x), -1)).sum(1) / np.linalg.norm(d, axis=1)
    assert np.linalg.norm(d, axis=1) == pytest.approx(0.5, abs=1e-4) and cosine.min() > 0.99  # the ball's best point


def test_accuracy_per_epsilon_on_a_cnn_budgets_bounds_and_no_side_effects():
    net = make_cnn(seed=1)
    net.train()
    x = np.random.default_rng(2).random((10, 3, 16, 16)).astype(np.float32)
    model = lumos.wrap(net)
    y = model.predict_proba(x).argmax(1)  # all correct on clean images
    before = [p.detach().clone() for p in net.parameters()]
    result = image_attack(model, x, y, "pgd", epsilons=[0.0, 0.02, 0.3], steps=5, n_explained=3)
    assert result.clean_accuracy == 1.0 and result.per_epsilon[0].accuracy == 1.0
    assert result.per_epsilon[0].rank_correlation == pytest.approx([1.0] * 3)
    for r in result.per_epsilon:
        adv = r.adversarial
        assert adv.min() >= 0 and adv.max() <= 1 and np.abs(adv - x[:len(adv)]).max() <= r.epsilon + 1e-6
        assert r.accuracy == pytest.approx(np.mean(model.predict_proba(adv).argmax(1) == y[:len(adv)]))
    assert result.per_epsilon[2].accuracy < 1.0  # a 0.3 box breaks a random CNN
    assert net.training and all(p.grad is None for p in net.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))
    with pytest.raises(lumos.InputError, match="method must be"):
        image_attack(model, x, y, "cw")
    with pytest.raises(lumos.UnsupportedError, match="differentiable torch model"):
        image_attack(lambda b: np.tile([0.5, 0.5], (len(b), 1)), x, y)

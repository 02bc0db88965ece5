"""lumos.influence against retraining and against gradients computed another way (known answers)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from scipy.stats import pearsonr
from torch import nn

import lumos
from lumos.influence import lds, train_with_checkpoints

LAM = 0.01  # the L2 strength of every logistic regression here, and the damping that goes with it


def blobs(n: int, d: int = 5, seed: int = 0, flip: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, flipped mask): a noisy linear rule in d dimensions, a fraction of labels flipped."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    y = (x @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n) > 0).astype(np.int64)
    flipped = np.zeros(n, dtype=bool)
    flipped[rng.choice(n, int(round(flip * n)), replace=False)] = True
    y[flipped] = 1 - y[flipped]
    return x, y, flipped


def fit_logreg(x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None,
               init: dict | None = None) -> nn.Linear:
    """argmin of mean_i w_i CE_i + LAM/2 |theta|^2 (a removed example has weight 0), L-BFGS to convergence."""
    torch.manual_seed(0)
    model = nn.Linear(x.shape[1], 2).double()
    if init is not None:
        model.load_state_dict(init)
    xt, yt = torch.tensor(x), torch.tensor(y)
    w = torch.ones(len(y), dtype=torch.float64) if weights is None else torch.tensor(weights)
    opt = torch.optim.LBFGS(model.parameters(), max_iter=500, tolerance_grad=1e-12, tolerance_change=1e-14,
                            history_size=50, line_search_fn="strong_wolfe")

    def objective():
        opt.zero_grad()
        loss = (nn.functional.cross_entropy(model(xt), yt, reduction="none") * w).sum() / len(y)
        loss = loss + LAM / 2 * sum((p ** 2).sum() for p in model.parameters())
        loss.backward()
        return loss

    for _ in range(3):
        opt.step(objective)
    model.zero_grad(set_to_none=True)
    return model.eval()


def losses_on(model: nn.Module, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return nn.functional.cross_entropy(model(torch.tensor(x)), torch.tensor(y), reduction="none").numpy()


@pytest.fixture(scope="module")
def logreg():
    x, y, _ = blobs(230, d=10)
    train, test = (x[:200], y[:200]), (x[200:], y[200:])
    return fit_logreg(*train), train, test


def test_exact_matches_leave_one_out_retraining(logreg):
    model, train, test = logreg
    result = lumos.influence.explain(model, train, test, method="exact", layers="all", damping=LAM)
    base = losses_on(model, *test)
    i = int(np.argmax(base))  # the worst-predicted test example: the largest effects
    removed = np.random.default_rng(1).choice(len(train[1]), 50, replace=False)
    actual = []
    for j in removed:
        weights = np.ones(len(train[1]))
        weights[j] = 0.0
        actual.append(losses_on(fit_logreg(*train, weights, init=model.state_dict()), *test)[i] - base[i])
    predicted = result.scores[i, removed]
    assert pearsonr(predicted, actual)[0] >= 0.95
    # the sign convention: positive = removing it raises the loss, and the magnitudes are in loss units
    assert np.sign(predicted) @ np.sign(actual) >= 0.9 * len(removed)
    assert np.abs(predicted - actual).max() < 0.2 * np.abs(actual).max()


@pytest.mark.parametrize("method, settings", [("lissa", {"depth": 300, "hessian_batch": 64}),
                                               ("arnoldi", {"rank": 10})])
def test_lissa_and_arnoldi_agree_with_exact(logreg, method, settings):
    model, train, test = logreg
    exact = lumos.influence.explain(model, train, test, method="exact", layers="all", damping=LAM, self_influence=False)
    other = lumos.influence.explain(model, train, test, method=method, layers="all", damping=LAM, self_influence=False,
                            **settings)
    assert pearsonr(other.scores.ravel(), exact.scores.ravel())[0] >= 0.9


def test_arnoldi_on_the_whole_nonzero_spectrum_is_exact(logreg):
    """22 parameters, 11 nonzero Hessian eigenvalues (two softmax outputs: one output's row is redundant)."""
    model, train, test = logreg
    exact = lumos.influence.explain(model, train, test, method="exact", layers="all", damping=LAM, self_influence=False)
    full = lumos.influence.explain(model, train, test, method="arnoldi", layers="all", damping=LAM, rank=11,
                           self_influence=False)
    np.testing.assert_allclose(full.scores, exact.scores, rtol=1e-6, atol=1e-9 * np.abs(exact.scores).max())


def test_ekfac_on_a_single_linear_layer_agrees_with_exact(logreg):
    model, train, test = logreg
    exact = lumos.influence.explain(model, train, test, method="exact", layers="all", damping=LAM)
    ekfac = lumos.influence.explain(model, train, test, method="ekfac", layers="all", damping=LAM)
    assert pearsonr(ekfac.scores.ravel(), exact.scores.ravel())[0] >= 0.95
    assert pearsonr(ekfac.self_influence, exact.self_influence)[0] >= 0.95


def test_ekfac_equals_exact_when_the_curvature_is_kronecker():
    """One input feature plus bias and a constant-probability model: the Fisher is exactly A (x) S, so EK-FAC
    is exact; the true Hessian of cross-entropy in the logits equals that Fisher."""
    x = np.array([[1.0], [-1.0], [2.0], [-2.0]])
    y = np.array([0, 1, 1, 0])
    model = nn.Linear(1, 2).double()
    with torch.no_grad():
        model.weight.zero_()
        model.bias.copy_(torch.tensor([0.3, -0.2]))
    exact = lumos.influence.explain(model, (x, y), (x, y), method="exact", layers="all", damping=0.1)
    ekfac = lumos.influence.explain(model, (x, y), (x, y), method="ekfac", layers="all", damping=0.1)
    np.testing.assert_allclose(ekfac.scores, exact.scores, rtol=1e-8, atol=1e-12)


def per_example_grads_by_hand(model: nn.Module, x: np.ndarray, y: np.ndarray, names: list[str]) -> np.ndarray:
    """(n, p) gradients with plain autograd, one example at a time (the reference for the vmap engine)."""
    params = dict(model.named_parameters())
    rows = []
    for xi, yi in zip(torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y)):
        loss = nn.functional.cross_entropy(model(xi[None]), yi[None])
        rows.append(torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, [params[n] for n in names])]))
    return torch.stack(rows).numpy()


@pytest.fixture()
def mlp_task():
    from conftest import make_mlp

    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 6)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    return make_mlp(), (x[:30], y[:30]), (x[30:], y[30:])


def test_grad_dot_equals_products_of_autograd_gradients_whatever_the_batch_size(mlp_task):
    model, train, test = mlp_task
    names = ["0.weight", "0.bias"]
    result = lumos.influence.explain(model, train, test, method="grad_dot", layers=["0"], batch_size=7)
    g_train = per_example_grads_by_hand(model.eval(), *train, names)
    g_test = per_example_grads_by_hand(model, *test, names)
    np.testing.assert_allclose(result.scores, g_test @ g_train.T, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(result.self_influence, (g_train ** 2).sum(1), rtol=1e-4)
    assert result.parameters == names
    cos = lumos.influence.explain(model, train, test, method="grad_cos", layers=["0"])
    norms = np.linalg.norm(g_test, axis=1)[:, None] * np.linalg.norm(g_train, axis=1)[None]
    np.testing.assert_allclose(cos.scores, g_test @ g_train.T / norms, rtol=1e-4, atol=1e-6)


def test_last_layer_equals_the_output_layer_on_cached_features(mlp_task):
    model, train, test = mlp_task
    full = lumos.influence.explain(model, train, test, method="exact", layers="last_layer", damping=1e-2)
    with torch.no_grad():
        features = [model[:-1].eval()(torch.as_tensor(x)).numpy() for x in (train[0], test[0])]
    head = lumos.influence.explain(model[-1], (features[0], train[1]), (features[1], test[1]), method="exact",
                           layers="all", damping=1e-2)
    np.testing.assert_allclose(full.scores, head.scores, rtol=1e-4, atol=1e-9)
    assert full.parameters == ["weight", "bias"]


def test_no_side_effects_on_the_model_or_data(mlp_task):
    model, train, test = mlp_task
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x_before = train[0].copy()
    for method, settings in (("exact", {}), ("ekfac", {}), ("lissa", {"depth": 20})):
        lumos.influence.explain(model, train, test, method=method, layers="all", damping=1.0, **settings)
    assert model.training and all(m.training for m in model.modules())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())
    np.testing.assert_array_equal(train[0], x_before)


def test_tracin_sums_learning_rate_weighted_gradient_products_over_checkpoints(mlp_task):
    model, train, test = mlp_task
    checkpoints, rates = train_with_checkpoints(model, *train, epochs=3, lr=0.05, batch_size=8, seed=0)
    assert len(checkpoints) == 3 and not torch.equal(checkpoints[0]["0.weight"], checkpoints[2]["0.weight"])
    result = lumos.influence.explain(model, train, test, method="tracin", layers="all", checkpoints=checkpoints,
                             learning_rates=[0.05, 0.1, 0.2])
    names = [n for n, _ in model.named_parameters()]
    expected, own = 0.0, 0.0
    for rate, state in zip([0.05, 0.1, 0.2], checkpoints):
        reference = copy.deepcopy(model)
        reference.load_state_dict(state)
        g_train = per_example_grads_by_hand(reference.eval(), *train, names)
        g_test = per_example_grads_by_hand(reference, *test, names)
        expected = expected + rate * g_test @ g_train.T
        own = own + rate * (g_train ** 2).sum(1)
    np.testing.assert_allclose(result.scores, expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(result.self_influence, own, rtol=1e-4)
    assert rates == [0.05] * 3


def test_self_influence_finds_flipped_labels():
    x, y, flipped = blobs(400, d=5, seed=3, flip=0.05)
    model = fit_logreg(x, y)
    top = int(0.1 * len(y))
    found = {}
    for method in ("exact", "ekfac", "grad_dot"):
        result = lumos.influence.explain(model, (x, y), (x[:2], y[:2]), method=method, layers="all", damping=LAM)
        found[method] = flipped[np.argsort(-result.self_influence)[:top]].sum() / flipped.sum()
        assert result.most_self_influential(3)[0].index == int(np.argmax(result.self_influence))
    assert min(found.values()) >= 0.6, found  # random ranking finds 10%


def test_proponents_and_opponents_carry_their_inputs(mlp_task):
    model, train, test = mlp_task
    result = lumos.influence.explain(model, train, test, method="exact", damping=1e-2)
    pro, con = result.proponents(0, k=3), result.opponents(0, k=3)
    row = result.scores[0]
    assert [e.index for e in pro] == list(np.argsort(-row)[:3]) and pro[0].score == row.max()
    assert [e.index for e in con] == list(np.argsort(row)[:3]) and con[0].score == row.min()
    np.testing.assert_array_equal(pro[0].input, train[0][pro[0].index])
    assert pro[0].label == train[1][pro[0].index]
    with pytest.raises(lumos.InputError, match="out of range"):
        result.proponents(99)


def test_text_model_last_layer_and_label_names(tiny_bert, tokenizer):
    from conftest import SENTENCES

    labels = ["positive", "negative", "negative", "positive", "negative", "negative", "positive", "negative"]
    result = lumos.influence.explain((tiny_bert, tokenizer), (SENTENCES, labels), (SENTENCES[:2], None),
                             method="grad_dot")
    assert result.scores.shape == (2, 8) and result.parameters == ["weight", "bias"]
    model = lumos.wrap((tiny_bert, tokenizer))
    ids, mask = model.tokenize(tokenizer(SENTENCES)["input_ids"])
    grads = []
    for i in range(len(SENTENCES)):
        out = tiny_bert(input_ids=ids[i:i + 1], attention_mask=mask[i:i + 1]).logits
        y = torch.tensor([model.labels.index(labels[i])])
        g = torch.autograd.grad(nn.functional.cross_entropy(out, y), [tiny_bert.classifier.weight,
                                                                      tiny_bert.classifier.bias])
        grads.append(torch.cat([t.reshape(-1) for t in g]))
    grads = torch.stack(grads).numpy()
    np.testing.assert_allclose(result.self_influence, (grads ** 2).sum(1), rtol=1e-3)
    with pytest.raises(lumos.UnsupportedError, match="Linear layers only"):
        lumos.influence.explain((tiny_bert, tokenizer), (SENTENCES, labels), (SENTENCES[:2], None), layers="all")


def test_text_model_inner_linear_layers_match_autograd(tiny_bert, tokenizer):
    from conftest import SENTENCES

    labels = [1, 0, 0, 1, 0, 0, 1, 0]
    layers = ["bert.encoder.layer.1.output.dense", "bert.pooler.dense"]
    result = lumos.influence.explain((tiny_bert, tokenizer), (SENTENCES, labels), (SENTENCES[:3], labels[:3]),
                             method="grad_dot", layers=layers, batch_size=3)
    names = [f"{m}.{leaf}" for m in layers for leaf in ("weight", "bias")]
    assert result.parameters == names
    params = dict(tiny_bert.named_parameters())
    model = lumos.wrap((tiny_bert, tokenizer))
    grads = []
    for text, label in zip(SENTENCES, labels):
        ids, mask = model.tokenize(tokenizer([text])["input_ids"])
        loss = nn.functional.cross_entropy(tiny_bert(input_ids=ids, attention_mask=mask).logits, torch.tensor([label]))
        grads.append(torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, [params[n] for n in names])]))
    grads = torch.stack(grads).numpy()
    np.testing.assert_allclose(result.scores, grads[:3] @ grads.T, rtol=1e-3, atol=1e-7)
    with pytest.raises(lumos.UnsupportedError, match="arnoldi"):
        lumos.influence.explain((tiny_bert, tokenizer), (SENTENCES, labels), (SENTENCES[:3], None), method="ekfac",
                        layers=layers)


def test_text_model_inner_layer_hessian_products_match_finite_differences(tiny_bert, tokenizer):
    """Double backward through a BERT: H v for the pooler equals the central difference of the mean gradient
    (float64 copy, so the difference is accurate to ~1e-8)."""
    import copy

    from conftest import SENTENCES
    from lumos.influence.data import network_of, problem_at, setup

    labels = [1, 0, 0, 1, 0, 0, 1, 0]
    bert = copy.deepcopy(tiny_bert).double()
    model = lumos.wrap((bert, tokenizer))
    problem = problem_at(setup(model, network_of(model), (SENTENCES, labels), (SENTENCES[:2], None),
                               ["bert.pooler.dense"], batch_size=3))
    v = torch.randn(2, problem.n_params, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    params = dict(bert.named_parameters())
    names = ["bert.pooler.dense.weight", "bert.pooler.dense.bias"]

    def mean_grad(shift: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            base = [params[n].clone() for n in names]
            for n, part in zip(names, shift.split([params[n].numel() for n in names])):
                params[n] += part.view(params[n].shape)
        ids, mask = model.tokenize(tokenizer(SENTENCES)["input_ids"])
        loss = nn.functional.cross_entropy(bert(input_ids=ids, attention_mask=mask).logits, torch.tensor(labels))
        g = torch.cat([t.reshape(-1) for t in torch.autograd.grad(loss, [params[n] for n in names])])
        with torch.no_grad():
            for n, b in zip(names, base):
                params[n].copy_(b)
        return g

    eps = 1e-5
    expected = torch.stack([(mean_grad(eps * u) - mean_grad(-eps * u)) / (2 * eps) for u in v])
    np.testing.assert_allclose(problem.hvp(v).numpy(), expected.numpy(), rtol=1e-5, atol=1e-8)


def test_text_model_inner_layer_curvature_methods_agree(tiny_bert, tokenizer):
    from conftest import SENTENCES

    labels = [1, 0, 0, 1, 0, 0, 1, 0]
    run = lambda method, **kw: lumos.influence.explain((tiny_bert, tokenizer), (SENTENCES, labels),  # noqa: E731
                                               (SENTENCES[:3], labels[:3]), method=method,
                                               layers=["bert.pooler.dense"], damping=0.1, **kw).scores.ravel()
    exact = run("exact")
    assert np.corrcoef(exact, run("arnoldi", rank=200))[0, 1] > 0.99
    assert np.corrcoef(exact, run("lissa", depth=300))[0, 1] > 0.9


def test_lds_is_one_for_additive_losses_and_minus_one_reversed():
    rng = np.random.default_rng(0)
    effects = rng.standard_normal((3, 40))

    def retrain(indices):  # losses that are exactly additive in the removed examples
        removed = np.setdiff1d(np.arange(40), indices)
        return 1.0 + effects[:, removed].sum(1)

    out = lds({"true": effects, "reversed": -effects, "noise": rng.standard_normal((3, 40))}, retrain,
              n_models=12, seed=1)
    assert out.score["true"] == pytest.approx(1.0) and out.score["reversed"] == pytest.approx(-1.0)
    assert abs(out.score["noise"]) < 0.6
    assert out.masks.shape == (12, 40) and (out.masks.sum(1) == 20).all()
    assert lumos.influence.lds is lds


# ----- bad input ------------------------------------------------------------------------------------------
def test_bad_inputs_get_errors_that_name_the_fix(mlp_task):
    model, train, test = mlp_task
    with pytest.raises(lumos.InputError, match=r"no labels.*\(inputs, labels\)"):
        lumos.influence.explain(model, (train[0], None), test)
    with pytest.raises(lumos.InputError, match=r"\(inputs, labels\) pair"):
        lumos.influence.explain(model, train[0], test)
    with pytest.raises(lumos.InputError, match="30 inputs but labels of shape"):
        lumos.influence.explain(model, (train[0], train[1][:5]), test)
    with pytest.raises(lumos.InputError, match="takes 6 features; got 4"):
        lumos.influence.explain(model, train, (test[0][:, :4], test[1]))
    with pytest.raises(lumos.InputError, match="2 classes"):
        lumos.influence.explain(model, (train[0], train[1] + 5), test)
    with pytest.raises(lumos.InputError, match="Did you mean"):
        lumos.influence.explain(model, train, test, method="exactt")
    with pytest.raises(lumos.InputError, match="does not have"):
        lumos.influence.explain(model, train, test, layers=["encoder"])
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        with pytest.raises(lumos.InputError, match="none is trainable.*requires_grad"):
            lumos.influence.explain(model, train, test, layers="all")
    finally:
        for p in model.parameters():
            p.requires_grad_(True)


def test_a_singular_hessian_without_damping_is_refused(logreg):
    model, train, test = logreg
    # two softmax outputs: shifting both rows of the weights alike changes nothing, so the Hessian is singular
    with pytest.raises(lumos.InputError, match=r"singular.*damping=1e-3"):
        lumos.influence.explain(model, train, test, method="exact", layers="all", damping=0)
    with pytest.raises(lumos.InputError, match="not positive definite.*Raise damping above"):
        from conftest import make_mlp  # an untrained MLP: a saddle, not a minimum

        rng = np.random.default_rng(0)
        x = rng.standard_normal((30, 6)).astype(np.float32)
        lumos.influence.explain(make_mlp(), (x, (x[:, 0] > 0).astype(int)), (x, None), layers="all", damping=0.01)
    with pytest.raises(lumos.InputError, match="damping must be"):
        lumos.influence.explain(model, train, test, damping=-1)


def test_images_through_a_cnn_with_batchnorm_match_autograd():
    from conftest import make_cnn

    model = make_cnn(classes=3).eval()
    rng = np.random.default_rng(0)
    x = rng.random((10, 3, 8, 8)).astype(np.float32)
    y = rng.integers(0, 3, 10)
    result = lumos.influence.explain(model, (x[:7], y[:7]), (x[7:], y[7:]), method="grad_dot", layers=["0", "8"])
    names = ["0.weight", "0.bias", "8.weight", "8.bias"]
    g_train = per_example_grads_by_hand(model, x[:7], y[:7], names)
    g_test = per_example_grads_by_hand(model, x[7:], y[7:], names)
    np.testing.assert_allclose(result.scores, g_test @ g_train.T, rtol=1e-4, atol=1e-6)


def test_random_methods_repeat_with_their_seed(logreg):
    model, train, test = logreg
    runs = [lumos.influence.explain(model, train, test, method="lissa", layers="all", damping=LAM, depth=30, seed=s).scores
            for s in (0, 0, 1)]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_sklearn_logistic_regression_against_its_own_refits():
    """sklearn minimises sum_i CE_i + |w|^2 / (2C): in mean form the damping is 1 / (C n) (its intercept is not
    penalised; lumos damps it too, a small difference)."""
    from sklearn.linear_model import LogisticRegression

    x, y, _ = blobs(230, d=5, seed=2)
    n, c = 200, 0.5
    fit = lambda rows: LogisticRegression(C=c, tol=1e-10, max_iter=10_000).fit(x[rows], y[rows])  # noqa: E731
    full = fit(np.arange(n))
    result = lumos.influence.explain(full, (x[:n], y[:n]), (x[n:], y[n:]), method="exact", layers="all",
                             damping=1 / (c * n))
    assert result.parameters == ["linear.weight", "linear.bias"]

    def loss(estimator) -> float:
        return -np.log(estimator.predict_proba(x[n:])[np.arange(30), y[n:]])

    i = int(np.argmax(loss(full)))
    removed = np.random.default_rng(1).choice(n, 50, replace=False)
    actual = [loss(fit(np.setdiff1d(np.arange(n), [j])))[i] - loss(full)[i] for j in removed]
    assert pearsonr(result.scores[i, removed], actual)[0] >= 0.95


def test_zoo_trainer_hands_out_tracin_checkpoints(mlp_task):
    from lumos.zoo.training import fit_classifier

    model, train, test = mlp_task
    saved = []
    fit_classifier(model, *train, epochs=3, batch_size=10, lr=0.01, weight_decay=0.0, seed=0, desc="",
                   progress=False, on_epoch=lambda m, rate: saved.append(({k: v.clone() for k, v in
                                                                          m.state_dict().items()}, rate)))
    rates = [r for _, r in saved]
    assert len(saved) == 3 and rates[0] > rates[1] > rates[2] > 0  # linear decay: each epoch's mean rate
    assert torch.equal(saved[-1][0]["0.weight"], model.state_dict()["0.weight"])
    result = lumos.influence.explain(model, train, test, method="tracin", checkpoints=[s for s, _ in saved],
                             learning_rates=rates)
    assert result.params["n_checkpoints"] == 3 and np.isfinite(result.scores).all()

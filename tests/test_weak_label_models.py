"""Label models on label matrices with known answers: LFs drawn at set accuracies and coverages."""

from __future__ import annotations

import numpy as np
import pytest

from lumos import registry
from lumos.errors import InputError, UnsupportedError
from lumos.weak import (ABSTAIN, DawidSkene, MajorityVote, MatrixCompletion, Stacked, Triplet, WeightedMajorityVote,
                        label, synthetic)

ACC = [0.9, 0.8, 0.75, 0.7, 0.65, 0.85, 0.6]
COV = [0.3, 0.5, 0.6, 0.4, 0.8, 0.2, 0.7]
TOLERANCE = 0.03  # largest error of a recovered LF accuracy on 20,000 examples


def oracle(task, balance) -> np.ndarray:
    """(N, K) naive-Bayes posteriors from the accuracies the LFs were drawn with (the best any model can do)."""
    L, K = task.matrix.L, task.matrix.n_classes
    logits = np.tile(np.log(balance), (len(L), 1))
    for j, a in enumerate(task.accuracies):
        voted = L[:, j] >= 0
        onehot = np.eye(K)[L[voted, j]]
        logits[voted] += onehot * np.log(a) + (1 - onehot) * np.log((1 - a) / (K - 1))
    p = np.exp(logits - logits.max(1, keepdims=True))
    return p / p.sum(1, keepdims=True)


@pytest.fixture(scope="module")
def binary():
    return synthetic(20000, ACC, COV, class_balance=[0.35, 0.65], seed=1)


@pytest.fixture(scope="module")
def three_class():
    return synthetic(20000, ACC, COV, n_classes=3, seed=2)


@pytest.mark.parametrize("model", [DawidSkene(), Triplet(), MatrixCompletion(class_balance=[0.35, 0.65])],
                         ids=lambda m: m.name)
def test_recovers_binary_accuracies_and_posteriors(binary, model):
    result = model.fit(binary.matrix)
    assert np.max(np.abs(result.accuracies - binary.accuracies)) < TOLERANCE
    best = oracle(binary, [0.35, 0.65])
    assert np.mean(np.abs(result.probs[:, 1] - best[:, 1])) < 0.03
    assert result.score(binary.y)["accuracy"] > MajorityVote().fit(binary.matrix).score(binary.y)["accuracy"] + 0.03


@pytest.mark.parametrize("model", [DawidSkene(), MatrixCompletion()], ids=lambda m: m.name)
def test_recovers_three_class_accuracies(three_class, model):
    result = model.fit(three_class.matrix)
    assert np.max(np.abs(result.accuracies - three_class.accuracies)) < TOLERANCE
    assert np.allclose(result.class_balance, 1 / 3, atol=0.02)


@pytest.mark.parametrize("model", [DawidSkene(), Triplet()], ids=lambda m: m.name)
def test_estimates_the_class_balance(binary, model):
    assert model.fit(binary.matrix).class_balance[1] == pytest.approx(0.65, abs=0.03)


def test_majority_vote_fails_on_correlated_lfs_and_weights_fix_it():
    """Two independent 0.85-accurate LFs and one 0.6-accurate LF: the majority is right when at least two are,
    0.85^2 + 2 * 0.85 * 0.15 * 0.6 = 0.8755. Two exact copies of the weak LF outvote the good ones: 0.6.
    Weighted by true log-odds, the two good LFs (1.73 each) beat the three copies (0.41 each): 0.8755 again."""
    independent = synthetic(20000, [0.85, 0.85, 0.6], seed=3)
    copied = synthetic(20000, [0.85, 0.85, 0.6], copies={2: 2}, seed=3)
    assert MajorityVote().fit(independent.matrix).score(independent.y)["accuracy"] == pytest.approx(0.8755, abs=0.01)
    assert MajorityVote().fit(copied.matrix).score(copied.y)["accuracy"] == pytest.approx(0.6, abs=0.01)
    w = np.log(np.array([0.85, 0.85, 0.6, 0.6, 0.6]) / (1 - np.array([0.85, 0.85, 0.6, 0.6, 0.6])))
    weighted = WeightedMajorityVote(weights=w).fit(copied.matrix)
    assert weighted.score(copied.y)["accuracy"] == pytest.approx(0.8755, abs=0.01)
    assert weighted.accuracies == pytest.approx([0.85, 0.85, 0.6, 0.6, 0.6])


def test_weighted_majority_weights_from_a_dev_set():
    L_dev = np.array([[1, 0], [1, 1], [0, ABSTAIN], [1, 1]])
    y_dev = np.array([1, 1, 1, 0])
    result = WeightedMajorityVote(dev=(L_dev, y_dev)).fit(L_dev)
    # LF0: 2 right of 4 votes -> (2 + 1) / (4 + 2); LF1: 1 of 3 -> (1 + 1) / (3 + 2)
    assert result.accuracies == pytest.approx([0.5, 0.4])
    assert result.params["weights_from"] == "dev"


def test_majority_vote_ties():
    L = np.array([[0, 1], [1, 1], [ABSTAIN, ABSTAIN]])
    assert MajorityVote().fit(L).probs[0] == pytest.approx([0.5, 0.5])
    assert MajorityVote(ties="prior", class_balance=[0.2, 0.8]).fit(L).probs[0] == pytest.approx([0.2, 0.8])
    tied = MajorityVote(ties="abstain", abstain="drop").fit(L)
    assert tied.covered.tolist() == [False, True, False] and tied.keep.tolist() == [False, True, False]
    many = np.tile([[0, 1]], (50, 1))
    a, b = MajorityVote(ties="random", seed=0).fit(many), MajorityVote(ties="random", seed=0).fit(many)
    assert np.array_equal(a.probs, b.probs) and set(np.unique(a.probs)) == {0.0, 1.0}
    assert not np.array_equal(a.probs, MajorityVote(ties="random", seed=1).fit(many).probs)
    assert MajorityVote(soft=True).fit(np.array([[0, 1, 1]])).probs[0] == pytest.approx([1 / 3, 2 / 3])


def test_stacked_weighs_copied_lfs_from_a_dev_set():
    """The copied matrix above: fitted on 1,000 gold dev rows drawn like the rest, stacking learns that the three
    copies say one thing once, reaching the accuracy of the independent LFs (0.8755), and its posteriors (with
    weak regularisation) are the true ones (naive Bayes over the three distinct LFs), not majority vote's 0.6."""
    copied = synthetic(21000, [0.85, 0.85, 0.6], copies={2: 2}, seed=3)
    L, y = copied.matrix.L, copied.y
    result = Stacked(dev=(L[:1000], y[:1000])).fit(L[1000:])
    assert result.score(y[1000:])["accuracy"] == pytest.approx(0.8755, abs=0.01)
    a = np.array([0.85, 0.85, 0.6])
    right = L[1000:, :3] == 1
    logit = np.sum(np.where(right, 1, -1) * np.log(a / (1 - a)), axis=1)
    loose = Stacked(dev=(L[:1000], y[:1000]), C=1.0).fit(L[1000:])  # the default C=0.1 shrinks them a little
    assert np.mean(np.abs(loose.probs[:, 1] - 1 / (1 + np.exp(-logit)))) < 0.03
    assert result.params["fitted_on"] == "dev" and result.params["fitted_rows"] == 1000


def test_stacked_matches_the_oracle_on_three_classes(three_class):
    """Independent LFs: a logistic regression on one-hot votes holds naive Bayes exactly, so 2,000 dev rows
    bring it within 0.03 of the oracle posteriors (the accuracies the LFs were drawn with)."""
    L, y = three_class.matrix.L, three_class.y
    result = Stacked(dev=(L[:2000], y[:2000]), C=1.0).fit(L)
    best = oracle(three_class, [1 / 3] * 3)
    assert np.mean(np.abs(result.probs - best)[2000:]) < 0.03
    assert result.score(y)["accuracy"] > (best.argmax(1) == y).mean() - 0.01


def test_stacked_without_dev_is_a_smoothed_majority_vote_and_checks_its_dev_set(binary):
    L = binary.matrix.L
    fallback = Stacked().fit(L)
    counts = np.stack([(L == k).sum(1) for k in (0, 1)], axis=1)
    untied = counts[:, 0] != counts[:, 1]
    assert fallback.params["fitted_on"] == "majority vote"
    assert np.mean(fallback.probs[untied].argmax(1) == counts[untied].argmax(1)) > 0.99
    with pytest.raises(InputError, match="no row of class 1"):
        Stacked(dev=(L[:50], np.zeros(50, dtype=int))).fit(L)
    with pytest.raises(InputError, match=r"L_dev \(n, 7\)"):
        Stacked(dev=(L[:50, :3], binary.y[:50])).fit(L)
    with pytest.raises(InputError, match=r"integers 0..1; got \[-1, 0, 1\]"):
        Stacked(dev=(L[:50], np.where(np.arange(50) == 0, -1, binary.y[:50]))).fit(L)
    # a given class balance shifts the dev set's prior: p' proportional to p * balance / dev balance
    dev = (L[:3000], binary.y[:3000])
    plain, shifted = Stacked(dev=dev).fit(L), Stacked(dev=dev, class_balance=[0.5, 0.5]).fit(L)
    seen = np.bincount(binary.y[:3000], minlength=2) / 3000
    expected = plain.probs * (0.5 / seen)
    expected /= expected.sum(1, keepdims=True)
    assert np.allclose(shifted.probs[plain.covered], expected[plain.covered])


@pytest.mark.parametrize("name", ["majority", "weighted_majority", "dawid_skene", "matrix_completion", "triplet",
                                  "stacked"])
def test_abstain_handling_and_determinism(binary, name):
    L = binary.matrix.L[:4000].copy()
    L[:5] = ABSTAIN
    prior = label(L, method=name, abstain="prior")
    assert np.all(np.isfinite(prior.probs)) and np.allclose(prior.probs.sum(1), 1)
    assert np.allclose(prior.probs[:5], prior.class_balance) and not prior.covered[:5].any()
    assert np.allclose(label(L, method=name, abstain="uniform").probs[:5], 0.5)
    dropped = label(L, method=name, abstain="drop")
    assert np.array_equal(dropped.keep, (L >= 0).any(1)) and not dropped.keep[:5].any()
    again = label(L, method=name, abstain="prior")
    assert np.array_equal(prior.probs, again.probs)
    assert np.allclose(prior.model.predict_proba(L), prior.probs)
    assert prior.params["model"] == name and prior.params["seed"] == 0


def test_a_class_no_lf_votes_for_is_named():
    L = np.array([[0, 1], [1, ABSTAIN], [0, 0]])
    for name in registry.names("label_model"):
        if name == "triplet":
            continue
        with pytest.raises(InputError, match=r"class '2' \(2\)"):
            label(L, method=name, n_classes=3)


def test_triplet_is_binary():
    with pytest.raises(UnsupportedError, match="binary"):
        Triplet().fit(np.array([[0, 1, 2], [2, 1, 0]]))


def test_registry_suggests_the_closest_name_and_checks_params():
    assert registry.names("label_model") == ["dawid_skene", "majority", "matrix_completion", "stacked", "triplet",
                                             "weighted_majority"]
    with pytest.raises(InputError, match="dawid_skene"):
        label(np.array([[0, 1]]), method="dawid_skenne")
    with pytest.raises(InputError, match="Did you mean 'ties'"):
        label(np.array([[0, 1]]), method="majority", tie="random")
    assert registry.describe("label_model")["majority"]["params"]["ties"] == "uniform"


def test_result_objects(binary):
    result = DawidSkene().fit(binary.matrix)
    frame = result.to_frame()
    assert list(frame.columns) == ["p_0", "p_1", "label", "covered", "keep"] and len(frame) == 20000
    summary = result.summary()
    assert summary["model"] == "dawid_skene" and summary["converged"] and summary["examples"] == 20000
    assert set(summary["learned_accuracies"]) == set(binary.matrix.lf_names)
    assert result.lf_frame()["lf"].tolist() == binary.matrix.lf_names


def test_bad_matrices():
    with pytest.raises(InputError, match="entry"):
        DawidSkene().fit(np.array([[0, 5]]), n_classes=2)
    with pytest.raises(InputError, match="2-D"):
        DawidSkene().fit(np.array([0, 1]))
    with pytest.raises(InputError, match="abstain must be"):
        DawidSkene(abstain="skip")


def test_one_class_lfs_need_abstentions_modelled():
    """Three LFs vote only positive, three only negative, each firing on 40% of its class and 5% of the other:
    precision 0.4 / (0.4 + 0.05) = 0.889. When an LF fires is all it says, so the classic Dawid-Skene (which
    ignores abstentions) learns nothing; modelling them recovers each precision."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 20000)
    L = np.stack([np.where(np.where(y == t, rng.random(len(y)) < 0.4, rng.random(len(y)) < 0.05), t, ABSTAIN)
                  for t in (1, 1, 1, 0, 0, 0)], 1)
    classic = label(L, method="dawid_skene", abstentions="ignore")
    assert classic.accuracies == pytest.approx(0.5, abs=0.01)
    for result in (label(L, method="dawid_skene"), label(L, method="matrix_completion")):
        assert np.max(np.abs(result.accuracies - 0.4 / 0.45)) < TOLERANCE
        covered = result.covered
        assert np.mean(result.probs[covered].argmax(1) == y[covered]) > 0.91

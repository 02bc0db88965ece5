"""Every metric on hand-worked examples: a 5-word sentence under a model whose probabilities are set word by
word, and 4x4 images under a model that reads fixed pixels."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch

import lumos
from lumos import Explanation, Explanations, InputError, UnsupportedError
from lumos.metrics.road import noisy_linear_impute
from lumos.rationales import best_span, from_spans, hard, spans, top_fraction, top_k
from conftest import additive_word_model, make_cnn, make_mlp

WORDS = {"good": 0.5, "very": 0.2, "movie": 0.05}
TEXT = "the movie was very good"


word_model = additive_word_model(WORDS)  # p(positive) = 0.2 + the weights of the words present


@pytest.fixture
def occl():
    """Occlusion on the additive model recovers the weights: the, movie, was, very, good = 0, .05, 0, .2, .5."""
    e = lumos.explain(word_model, [TEXT], method="occlusion", target=1)
    np.testing.assert_allclose(e[0].attributions, [0, 0.05, 0, 0.2, 0.5], atol=1e-7)
    return e


def score(metric, expl, inputs=(TEXT,), **kw):
    return lumos.evaluate(word_model, list(inputs), expl, metrics=[metric], **kw)[metric if isinstance(metric, str)
                                                                                  else metric[0]]


def test_comprehensiveness_and_sufficiency_by_hand(occl):
    assert score("comprehensiveness", occl)[0] == pytest.approx(0.95 - 0.45)  # top 20% = "good" removed
    assert score("sufficiency", occl)[0] == pytest.approx(0.95 - 0.70)  # only "good" kept
    two = ("comprehensiveness", {"rule": "top_k", "value": 2})
    assert score(two, occl)[0] == pytest.approx(0.95 - 0.25)


def test_empty_and_whole_rationales(occl):
    none = {"rule": "top_fraction", "value": 0.0}
    whole = {"rule": "top_fraction", "value": 1.0}
    assert score(("comprehensiveness", none), occl)[0] == pytest.approx(0.0)
    assert score(("sufficiency", none), occl)[0] == pytest.approx(0.95 - 0.2)  # nothing kept: the empty text
    assert score(("comprehensiveness", whole), occl)[0] == pytest.approx(0.95 - 0.2)
    assert score(("sufficiency", whole), occl)[0] == pytest.approx(0.0)


def test_aopc_by_hand(occl):
    # ERASER bins 1, 5, 10, 20, 50% of 5 words remove ceil(.05), ceil(.25), ceil(.5), ceil(1), ceil(2.5) words
    # = 1, 1, 1, 1, 3: "good" four times, then good+very+movie.
    scores = lumos.evaluate(word_model, [TEXT], occl, metrics=["aopc_comprehensiveness", "aopc_sufficiency"])
    np.testing.assert_allclose(scores.details["aopc_comprehensiveness"]["per_bin"][0], [.5, .5, .5, .5, .75])
    assert scores["aopc_comprehensiveness"][0] == pytest.approx(2.75 / 5)
    np.testing.assert_allclose(scores.details["aopc_sufficiency"]["per_bin"][0], [.25, .25, .25, .25, 0], atol=1e-12)
    assert scores["aopc_sufficiency"][0] == pytest.approx(1.0 / 5)
    ferret = score(("aopc_comprehensiveness", {"bins": "ferret"}), occl)[0]
    # ferret bins 10%..100%: ceil(.5)=1, 1, 2, 2, 3, 3, 4, 4, 5, 5 words removed
    drops = [.5, .5, .7, .7, .75, .75, .75, .75, .75, .75]
    assert ferret == pytest.approx(np.mean(drops))


def test_taucorr_loo_ties_and_one_word(occl):
    assert score("taucorr_loo", occl)[0] == pytest.approx(1.0)  # the explanation is leave-one-out itself
    reversed_expl = Explanations([Explanation(-occl[0].attributions, occl[0].features, 1, occl[0].probs, "given", {})])
    assert score("taucorr_loo", reversed_expl)[0] == pytest.approx(-1.0)
    one = lumos.explain(word_model, ["good"], method="occlusion", target=1)
    assert score("comprehensiveness", one, inputs=["good"])[0] == pytest.approx(0.7 - 0.2)
    assert np.isnan(score("taucorr_loo", one, inputs=["good"])[0])  # undefined for one feature


def test_complexity_by_hand(occl):
    # Gini of sorted (0, 0, .05, .2, .5): sum (2i - n - 1) v_i / (n sum v) = (0*.05 + 2*.2 + 4*.5) / (5 * .75)
    assert score("sparseness", occl)[0] == pytest.approx(2.4 / 3.75)
    p = np.array([0.05, 0.2, 0.5]) / 0.75
    assert score("effective_size", occl)[0] == pytest.approx(np.exp(-(p * np.log(p)).sum()))
    flat = Explanations([Explanation(np.ones(5, np.float32), occl[0].features, 1, occl[0].probs, "given", {})])
    assert score("sparseness", flat)[0] == 0.0 and score("effective_size", flat)[0] == pytest.approx(5.0)


def test_plausibility_by_hand(occl):
    gold = [np.array([0, 0, 0, 1, 1], bool)]  # "very good"
    s = lumos.evaluate(word_model, [TEXT], occl, metrics=["token_f1", "iou_f1", "auprc"], rationales=gold)
    assert s["token_f1"][0] == 1.0 and s["iou_f1"][0] == 1.0 and s["auprc"][0] == pytest.approx(1.0)
    gold = [[(1, 2), (4, 5)]]  # "movie" and "good" as ERASER spans; top-2 predicted = very, good
    s = lumos.evaluate(word_model, [TEXT], occl, metrics=["token_f1", "iou_f1", "auprc"], rationales=gold)
    assert s["token_f1"][0] == pytest.approx(0.5)
    assert s.details["token_f1"]["precision"][0] == pytest.approx(0.5)
    # predicted span (3, 5) matches gold (4, 5) at IOU 1/2, not (1, 2): precision 1/1, recall 1/2
    assert s["iou_f1"][0] == pytest.approx(2 / 3)
    # PR points (recall, precision): (0, 1) (.5, 1) (.5, .5) (1, 2/3) (1, .4): area .5 + .5 * (.5 + 2/3) / 2
    assert s["auprc"][0] == pytest.approx(19 / 24)


def test_plausibility_edge_cases(occl):
    empty = [np.zeros(5, bool)]
    s = lumos.evaluate(word_model, [TEXT], occl, metrics=[("token_f1", {"rule": "top_k", "value": 0}), "auprc"],
                       rationales=empty)
    assert s["token_f1"][0] == 1.0  # nothing predicted, nothing expected
    assert np.isnan(s["auprc"][0])  # no positive to rank
    with pytest.raises(InputError, match="pass rationales="):
        lumos.evaluate(word_model, [TEXT], occl, metrics=["token_f1"])
    with pytest.raises(InputError, match="rationale 0 covers 3 features; its explanation has 5"):
        lumos.evaluate(word_model, [TEXT], occl, metrics=["token_f1"], rationales=[np.ones(3, bool)])


def test_infidelity_is_zero_for_an_additive_model_explained_exactly(occl):
    assert score(("infidelity", {"normalize": False}), occl)[0] == pytest.approx(0.0, abs=1e-12)
    w = np.array([0.05, -0.1, 0.02])
    linear = lambda x: np.stack([0.5 - x @ w, 0.5 + x @ w], axis=1)  # noqa: E731
    x = np.array([[0.3, -0.2, 0.5]])
    exact = Explanations([Explanation(w.astype(np.float32), ["a", "b", "c"], 1, linear(x)[0], "given", {})])
    wrong = Explanations([Explanation((w * [1, -1, 1]).astype(np.float32), ["a", "b", "c"], 1, linear(x)[0],
                                      "given", {})])
    s_exact = lumos.evaluate(linear, x, exact, metrics=[("infidelity", {"normalize": False})])["infidelity"][0]
    s_wrong = lumos.evaluate(linear, x, wrong, metrics=[("infidelity", {"normalize": False})])["infidelity"][0]
    assert s_exact == pytest.approx(0.0, abs=1e-12) and s_wrong > 1e-5


def test_max_sensitivity_of_a_constant_gradient_is_zero():
    lin = torch.nn.Linear(4, 2)
    x = np.random.default_rng(0).normal(size=(3, 4))
    sal = lumos.explain(lin, x, method="saliency", output="logit", target=1)
    assert lumos.evaluate(lin, x, sal, metrics=["max_sensitivity"])["max_sensitivity"] == pytest.approx(0, abs=1e-6)
    ixg = lumos.explain(lin, x, method="input_x_gradient", output="logit", target=1)
    moved = lumos.evaluate(lin, x, ixg, metrics=[("max_sensitivity", {"radius": 0.05})])["max_sensitivity"]
    w = lin.weight[1].detach().numpy()
    bound = 0.05 * np.ptp(x, axis=1) * np.linalg.norm(w) / np.linalg.norm(w * x, axis=1)
    assert (moved > 0).all() and (moved <= bound + 1e-6).all()


def test_mprt_random_explanations_do_not_move_and_the_model_is_untouched():
    module = make_mlp()
    x = np.random.default_rng(0).normal(size=(4, 6))
    before = copy.deepcopy(module.state_dict())
    rand = lumos.explain(module, x, method="random")
    s = lumos.evaluate(module, x, rand, metrics=["mprt"])
    assert s["mprt"] == pytest.approx(np.ones(4))  # independent of the weights by construction
    assert s.details["mprt"]["layers"] == ["3", "0"]  # output layer first
    sal = lumos.explain(module, x, method="saliency")
    assert lumos.evaluate(module, x, sal, metrics=["mprt"])["mprt"].mean() < 0.9
    assert all(torch.equal(before[k], module.state_dict()[k]) for k in before)
    with pytest.raises(UnsupportedError, match="mprt randomises a torch model"):
        lumos.evaluate(word_model, [TEXT], lumos.explain(word_model, [TEXT], method="occlusion"), metrics=["mprt"])


# ----- images --------------------------------------------------------------------------------------------
WEIGHTS = np.zeros((4, 4))
WEIGHTS[0, 0], WEIGHTS[0, 1], WEIGHTS[1, 0] = 0.5, 0.25, 0.25


def pixel_model(x: np.ndarray) -> np.ndarray:
    """p(1) = sum of w_ij x_ij over channel 0 (images in [0, 1], weights summing to 1)."""
    p = (x[:, 0] * WEIGHTS).sum(axis=(1, 2))
    return np.stack([1 - p, p], axis=1)


def given(attr: np.ndarray, x: np.ndarray) -> Explanations:
    return Explanations([Explanation(attr.astype(np.float32)[None], None, 1, pixel_model(x)[0], "given", {})])


def test_deletion_and_insertion_by_hand():
    x = np.ones((1, 1, 4, 4), np.float32)
    perfect = given(WEIGHTS, x)
    s = lumos.evaluate(pixel_model, x, perfect, metrics=[("deletion_auc", {"steps": 16, "baseline": "zeros"}),
                                                          ("insertion_auc", {"steps": 16, "baseline": "zeros"})])
    # deletion curve 1, .5, .25, 0, ... at fractions k/16: trapezoids (1.5 + .75 + .25) / 2 / 16
    assert s["deletion_auc"][0] == pytest.approx(1.25 / 16)
    # insertion curve 0, .5, .75, 1, ...: (.5 + 1.25 + 1.75) / 2 / 16 + 13 / 16
    assert s["insertion_auc"][0] == pytest.approx(1.75 / 16 + 13 / 16)
    np.testing.assert_allclose(s.details["deletion_auc"]["curve"][0][:4], [1, .5, .25, 0])
    worst = given(-WEIGHTS, x)  # the three pixels that matter come last (ties keep position order)
    assert lumos.evaluate(pixel_model, x, worst, metrics=[("deletion_auc", {"steps": 16, "baseline": "zeros"})])[
        "deletion_auc"][0] > 0.8


def test_noisy_linear_imputation_reproduces_a_linear_ramp():
    ramp = np.add.outer(np.arange(6.0), 2 * np.arange(6.0))[None]  # x_ij = i + 2j, one channel
    missing = np.zeros((6, 6), bool)
    missing[2:4, 1:5] = True  # interior pixels, some with missing neighbours
    filled = noisy_linear_impute(ramp, missing, noise=0.0, rng=np.random.default_rng(0))
    np.testing.assert_allclose(filled, ramp, atol=1e-10)


def test_road_ranks_a_faithful_map_below_a_reversed_one():
    rng = np.random.default_rng(0)
    x = rng.random((2, 1, 4, 4)).astype(np.float32) * 0.2
    x[:, 0, 0, 0] = 1.0  # a bright pixel the model reads, unlike its neighbours
    expl = Explanations([Explanation(WEIGHTS[None].astype(np.float32), None, 1, pixel_model(x)[i], "g", {})
                         for i in range(2)])
    rev = Explanations([Explanation(-WEIGHTS[None].astype(np.float32), None, 1, pixel_model(x)[i], "g", {})
                        for i in range(2)])
    good = lumos.evaluate(pixel_model, x, expl, metrics=[("road", {"levels": (0.0625, 0.125)})])["road"]
    bad = lumos.evaluate(pixel_model, x, rev, metrics=[("road", {"levels": (0.0625, 0.125)})])["road"]
    assert (good < bad).all()


def test_agreement_by_hand():
    feats = list("abcde")
    up = Explanations([Explanation(np.arange(1, 6, dtype=np.float32), feats, 0, np.ones(2) / 2, "up", {})])
    down = Explanations([Explanation(np.arange(5, 0, -1, dtype=np.float32), feats, 0, np.ones(2) / 2, "down", {})])
    a = lumos.agreement({"up": up, "down": down, "up2": up}, k=2, absolute=False)
    m = a.matrix("spearman")
    assert m.loc["up", "down"] == pytest.approx(-1) and m.loc["up", "up2"] == pytest.approx(1)
    assert a.matrix("kendall").loc["down", "up"] == pytest.approx(-1)
    assert a.per_example[("up", "down")]["jaccard"][0] == 0.0  # top-2 {d, e} vs {a, b}
    assert a.matrix("jaccard").loc["up", "up2"] == 1.0


def test_rationale_rules_and_ties():
    s = np.array([1.0, 1.0, 1.0, 0.0, 0.5])
    assert top_k(s, 1).tolist() == [True, False, False, False, False]  # ties: earlier first
    assert top_fraction(s, 0.2).sum() == 1 and top_fraction(s, 0.0).sum() == 0
    assert hard(s, "threshold", 0.5).tolist() == [True, True, True, False, True]
    assert best_span(np.array([0, 2, 0, 1, 1.5]), 2).tolist() == [False, False, False, True, True]
    assert spans(np.array([1, 1, 0, 1], bool)) == [(0, 2), (3, 4)]
    assert from_spans([(1, 3), (4, 9)], 5).tolist() == [False, True, True, False, True]


def test_eraser_loader_and_evidence_spans():
    examples = lumos.eraser.load(Path(__file__).parent / "data" / "eraser_tiny", "test")
    assert [e.annotation_id for e in examples] == ["rev1", "rev2"]
    assert examples[0].rationale.tolist() == [False, True, True, True, False, False, False, False, False]
    assert examples[1].spans == ((1, 2), (3, 4)) and examples[1].label == "NEG"
    texts = [e.text for e in examples]
    expl = lumos.explain(word_model, texts, method="occlusion", target=1)
    s = lumos.evaluate(word_model, texts, expl, metrics=["token_f1"], rationales=[list(e.spans) for e in examples])
    assert s["token_f1"].shape == (2,)


def test_metric_model_calls_are_batched_across_examples_and_levels(tfidf_pipeline):
    from conftest import SENTENCES

    model = lumos.wrap(tfidf_pipeline, batch_size=10_000)
    expl = lumos.explain(model, SENTENCES, method="occlusion")
    model.reset_counts()
    lumos.evaluate(model, SENTENCES, expl, metrics=["aopc_comprehensiveness"])
    assert model.counts.forwards == 1 and model.counts.rows == 5 * len(SENTENCES) + len(SENTENCES)
    model.reset_counts()
    lumos.evaluate(model, SENTENCES, expl, metrics=["taucorr_loo", ("taucorr_loo", {})])
    n_words = sum(len(e.features) for e in expl)
    assert model.counts.rows == len(SENTENCES) + n_words  # leave-one-out computed once, shared


def test_metric_errors():
    e = lumos.explain(word_model, [TEXT], method="occlusion")
    with pytest.raises(UnsupportedError, match="deletion_auc does not apply to text"):
        lumos.evaluate(word_model, [TEXT], e, metrics=["deletion_auc"])
    with pytest.raises(InputError, match="unknown metric 'comprehensivenes'. Did you mean 'comprehensiveness'"):
        lumos.evaluate(word_model, [TEXT], e, metrics=["comprehensivenes"])
    with pytest.raises(InputError, match="got 1 explanations for 2 inputs"):
        lumos.evaluate(word_model, [TEXT, TEXT], e)
    with pytest.raises(InputError, match="explain and evaluate the same inputs"):
        lumos.evaluate(word_model, ["another text here"], e)


def test_every_metric_has_metadata():
    info = lumos.catalog("metric")
    evaluation = {"agreement", "aopc_comprehensiveness", "aopc_sufficiency", "auprc", "comprehensiveness",
                  "deletion_auc", "effective_size", "infidelity", "insertion_auc", "iou_f1", "max_sensitivity", "mprt",
                  "road", "sparseness", "sufficiency", "taucorr_loo", "token_f1"}
    assert evaluation <= set(info)  # the evaluation metrics; other modules (nle) register more
    for name, meta in info.items():
        assert meta["family"] in {"faithfulness", "robustness", "randomization", "complexity", "plausibility",
                                  "agreement"}, name
        assert isinstance(meta["higher_is_better"], bool) and len(meta["bounds"]) == 2 and meta["summary"]


def test_leave_one_out_is_shared_between_calls_through_a_cache(tfidf_pipeline):
    from conftest import SENTENCES

    model = lumos.wrap(tfidf_pipeline, batch_size=10_000)
    cache: dict = {}
    for method in ("occlusion", "random"):
        expl = lumos.explain(model, SENTENCES, method=method)
        model.reset_counts()
        lumos.evaluate(model, SENTENCES, expl, metrics=["taucorr_loo"], cache=cache)
        rows = model.counts.rows
    assert rows == 0  # the second call reuses leave-one-out (p(y|x) included): no model call at all

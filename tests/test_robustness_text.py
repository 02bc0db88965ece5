"""Text robustness: CheckList-style suites and the attacks, on models with known weaknesses."""

from __future__ import annotations

import numpy as np
import pytest

import lumos
from lumos.robustness import WordVocabulary, attack, run_suite
from lumos.robustness import perturbations as P
from lumos.robustness.attacks.deepwordbug import char_edits
from lumos.robustness.attacks.vocabulary import STOP_WORDS, vocabulary_of


def keyed_on(word: str, yes: float = 0.9, no: float = 0.2):
    """A callable that says 'positive' with ``yes`` when ``word`` is a whitespace word, else ``no``."""
    def probs(texts):
        p = np.array([yes if word in t.split() else no for t in texts])
        return np.stack([1 - p, p], axis=1)
    return lumos.wrap(probs, labels=["negative", "positive"])


# toy word vectors: "great" sits next to "awful" (cosine 0.99) and to "grand" (0.9); films are films
VOCAB = WordVocabulary(["great", "awful", "grand", "film", "movie", "plot"],
                       np.array([[1, 0, 0], [0.99, 0.14, 0], [0.9, 0, 0.44], [0, 1, 0], [0, 0.95, 0.3],
                                 [0, 0, 1]]))


# ----- perturbations and suites -----------------------------------------------------------------------------
def test_perturbations_do_what_they_say():
    rng = np.random.default_rng(0)
    assert P.negate("The film is good", rng) == "The film is not good"
    assert P.negate("It is not good", rng) is None
    assert P.contraction("It is fine", rng) == "It's fine"
    assert P.contraction("I can't", rng) == "I cannot" or P.contraction("I can't", rng) == "I can not"
    swapped = P.swap_name("John was great", rng)
    assert swapped.endswith(" was great") and swapped.split()[0] in P.FIRST_NAMES and swapped.split()[0] != "John"
    assert P.swap_name("nobody here", rng) is None
    t = P.typo("wonderful", rng)
    assert len(t) == 9 and sorted(t) == sorted("wonderful") and t != "wonderful"
    assert sum(a != b for a, b in zip(t, "wonderful")) == 2  # one adjacent transposition
    assert P.intensify("a good film", rng).split()[1] in P.INTENSIFIERS


def test_a_model_keyed_on_a_name_fails_name_swap_and_passes_the_rest():
    model = keyed_on("John")
    texts = ["John made a film", "I liked John", "the film by John was fine", "John is here"]
    result = run_suite(model, texts, seed=0)
    assert result["name swap"].n == 4 and result["name swap"].failure_rate == 1.0
    assert result["neutral sentence added"].failure_rate == 0.0
    assert result["contractions"].n == 0 or result["contractions"].failure_rate == 0.0
    failed = result["name swap"].examples[0]
    assert failed["failed"] and "John" not in failed["perturbed"].split()
    assert failed["probs_original"] == pytest.approx([0.1, 0.9])
    assert failed["probs_perturbed"] == pytest.approx([0.8, 0.2])


def test_directional_negation_fails_a_model_that_ignores_not_and_passes_one_that_reads_it():
    texts = ["the film is good", "the plot was clever", "they are fun"]
    blind = keyed_on("film", 0.9, 0.8)  # positive either way; "not" changes nothing
    reads = lumos.wrap(lambda ts: np.array([[0.8, 0.2] if "not" in t.split() else [0.2, 0.8] for t in ts]))
    assert run_suite(blind, texts)["negation"].failure_rate == 1.0
    assert run_suite(reads, texts)["negation"].failure_rate == 0.0


def test_suite_is_one_batched_model_call_and_seeded():
    model = keyed_on("good")
    texts = ["a good film", "It is not bad", "John went to Paris", "good", "it was good"]
    before = model.counts.forwards
    a = run_suite(model, texts, seed=3)
    assert model.counts.forwards - before <= 2  # one evaluate call (the batch sizer may split it once)
    b = run_suite(model, texts, seed=3)
    assert str(a.to_frame()) == str(b.to_frame()) and [t.examples for t in a.tests] == [t.examples for t in b.tests]


# ----- attacks ------------------------------------------------------------------------------------------------
def test_textfooler_flips_a_one_word_model_with_one_substitution_and_counts_every_row():
    model = keyed_on("great")
    result = attack(model, ["a great film", "a great plot , truly"], "textfooler", budget=50, vocabulary=VOCAB)
    for ex in result.examples:
        assert ex.status == "succeeded" and ex.words_changed == 1 and ex.changed == [1]
        assert ex.perturbed.split()[1] == "awful"  # the nearest neighbour flips it
    # 1 prediction + leave-one-out over the modifiable words (great, film | great, plot) + one round of
    # great's candidates (awful, grand: both within the default chunk of 2)
    assert [ex.queries for ex in result.examples] == [5, 5]
    assert result.forward_rows == model.counts.rows == 10
    assert result.success_rate == 1.0 and result.queries_per_success == 5.0 and result.words_changed == 1.0
    one_by_one = attack(model, ["a great film"], "textfooler", budget=50, vocabulary=VOCAB, chunk_size=1)
    assert one_by_one.examples[0].queries == 4 and one_by_one.examples[0].perturbed == "a awful film"


def test_importance_from_a_lumos_explainer_ranks_like_leave_one_out():
    model = keyed_on("great")
    texts = ["the film was great", "a great plot"]
    loo = attack(model, texts, "textfooler", budget=50, vocabulary=VOCAB)
    occ = attack(model, texts, "textfooler", budget=50, vocabulary=VOCAB, importance="occlusion")
    assert [e.perturbed for e in occ.examples] == [e.perturbed for e in loo.examples] == ["the film was awful",
                                                                                          "a awful plot"]
    assert occ.forward_rows == model.counts.rows - loo.forward_rows  # the explainer's rows are counted too


def test_attacks_stop_at_the_budget_and_refuse_to_run_without_one():
    never = lumos.wrap(lambda ts: np.tile([0.1, 0.9], (len(ts), 1)))
    texts = ["wonderful acting and splendid music throughout"]
    for recipe, kw in (("textfooler", {"vocabulary": VOCAB}), ("deepwordbug", {})):
        result = attack(never, texts, recipe, budget=7, **kw)
        assert result.examples[0].status == "failed"
        assert result.examples[0].queries <= 7 and result.forward_rows == result.examples[0].queries
    assert attack(never, texts, "deepwordbug", budget=7).examples[0].queries == 7  # enough candidates to use it all
    for bad in (None, 0, -5, 2.5, True):
        with pytest.raises(lumos.InputError, match="budget must be a positive int"):
            attack(never, texts, "deepwordbug", budget=bad)
    with pytest.raises(lumos.InputError, match="Did you mean 'textfooler'"):
        attack(never, texts, "textfool")
    with pytest.raises(lumos.UnsupportedError, match="needs gradients"):
        attack(never, texts, "hotflip")


def test_skipped_sentences_cost_one_query_and_do_not_count_in_the_success_rate():
    model = keyed_on("great")
    result = attack(model, ["a great film", "a film"], "textfooler", labels=[1, 1], budget=20, vocabulary=VOCAB)
    assert [e.status for e in result.examples] == ["succeeded", "skipped"]
    assert result.examples[1].queries == 1 and result.attacked == 1 and result.success_rate == 1.0
    assert result.success_curve([1, 4, 5, 20]) == [0.0, 0.0, 1.0, 1.0]


def test_deepwordbug_edits_are_one_character_away_and_seeded_by_the_word():
    rng = np.random.default_rng(0)
    edits = char_edits("awesome", 8, rng)
    assert len(edits) == 8 and len(set(edits)) == 8

    def one_edit(a: str, b: str) -> bool:
        if len(a) == len(b):
            diff = [i for i in range(len(a)) if a[i] != b[i]]
            return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                                      and a[diff[1]] == b[diff[0]])
        short, long_ = sorted((a, b), key=len)
        return len(long_) == len(short) + 1 and any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))

    assert all(one_edit("awesome", e) for e in edits)
    model = keyed_on("awesome")
    alone = attack(model, ["an awesome film"], "deepwordbug", budget=30, seed=4).examples[0]
    batched = attack(model, ["a film", "an awesome film"], "deepwordbug", budget=30, seed=4).examples[1]
    assert alone.as_dict() == batched.as_dict() and alone.status == "succeeded" and alone.words_changed == 1


def test_hotflip_and_textfooler_on_a_tiny_bert_report_what_the_model_says(tiny_bert, tokenizer):
    model = lumos.wrap((tiny_bert, tokenizer))
    texts = ["a gripping and beautifully shot film", "dull, predictable and far too long", "quietly devastating",
             "and so it is"]  # the last has nothing to change: stop words only
    training = tiny_bert.training
    for recipe in ("hotflip", "textfooler"):
        before = model.counts.rows
        extra = {"min_similarity": 0.0} if recipe == "textfooler" else {}  # a random BERT's neighbours are far
        result = attack(model, texts, recipe, budget=40, seed=0, **extra)
        assert result.forward_rows == model.counts.rows - before == sum(e.queries for e in result.examples)
        assert all(e.queries <= 40 for e in result.examples)
        again = model.predict_proba([e.perturbed for e in result.examples])
        for e, p in zip(result.examples, again):
            assert p == pytest.approx(e.probs_perturbed, abs=1e-5)
            assert (p.argmax() != e.label) == (e.status == "succeeded")
            assert e.words_changed == sum(a != b for a, b in zip(e.original.split(), e.perturbed.split()))
        assert result.examples[3].status in ("failed", "skipped") and result.examples[3].words_changed == 0
    assert tiny_bert.training == training and all(p.grad is None for p in tiny_bert.parameters())
    with pytest.raises(lumos.InputError, match="cannot rank words by gradient"):
        attack(model, texts, "deepwordbug", budget=10, importance="gradient")


def test_victim_vocabulary_is_whole_words_without_stop_words_and_cached(tiny_bert, tokenizer):
    model = lumos.wrap((tiny_bert, tokenizer))
    vocab = vocabulary_of(model)
    assert vocabulary_of(lumos.wrap((tiny_bert, tokenizer))) is vocab  # once per network
    assert not any(w.startswith("##") or w in STOP_WORDS or not w.isalpha() for w in vocab.words)
    weight = tiny_bert.get_input_embeddings().weight.detach().numpy()
    i = vocab.index["film"]
    unit = weight[vocab.token_ids] / np.linalg.norm(weight[vocab.token_ids], axis=1, keepdims=True)
    sims = unit @ unit[i]
    sims[i] = -np.inf
    expected = [vocab.words[j] for j in np.argsort(-sims, kind="stable")[:5]]
    assert [w for w, _ in vocab.neighbours("film", 5, -1.0)] == expected


def test_first_order_swap_gains_equal_a_direct_autograd_computation(tiny_bert, tokenizer):
    import torch

    from lumos.robustness.attacks.first_order import swap_gains

    model = lumos.wrap((tiny_bert, tokenizer))
    vocab = vocabulary_of(model)
    words = "a gripping film".split()
    (rows, delta), = swap_gains(model, vocab, [words], np.array([1]))
    assert rows.tolist() == [1, 2]  # "a" is a stop word
    enc = tokenizer(" ".join(words), return_tensors="pt")
    table = tiny_bert.get_input_embeddings()
    x = table(enc["input_ids"]).detach().requires_grad_(True)
    with torch.enable_grad():
        logit = tiny_bert(inputs_embeds=x, attention_mask=enc["attention_mask"]).logits[0, 1]
        (g,) = torch.autograd.grad(logit, x)
    t = enc["input_ids"][0].tolist().index(tokenizer.convert_tokens_to_ids("film"))
    e = table.weight.detach()
    expected = (g[0, t] @ (e[vocab.token_ids] - e[enc["input_ids"][0, t]]).T).numpy()
    assert np.allclose(delta[1], expected, atol=1e-5)


@pytest.mark.parametrize("recipe", sorted(lumos.robustness.attacks()))
def test_every_attack_is_deterministic_batch_independent_and_within_budget(recipe, tiny_bert, tokenizer):
    model = lumos.wrap((tiny_bert, tokenizer))
    texts = ["a gripping and beautifully shot film", "dull, predictable and far too long", "an ambitious failure"]
    kw = {"min_similarity": 0.0} if recipe == "textfooler" else {}
    first = attack(model, texts, recipe, budget=25, seed=1, **kw)
    again = attack(model, texts, recipe, budget=25, seed=1, **kw)
    alone = attack(model, texts[1:2], recipe, budget=25, seed=1, **kw)
    def same(a, b) -> bool:  # padding may differ with the batch: probabilities to float precision
        da, db = a.as_dict(), b.as_dict()
        probs = [np.r_[d.pop("probs_original"), d.pop("probs_perturbed")] for d in (da, db)]
        return da == db and np.allclose(*probs, atol=1e-6)

    assert all(same(a, b) for a, b in zip(first.examples, again.examples))
    assert same(alone.examples[0], first.examples[1])
    assert all(e.queries <= 25 for e in first.examples) and first.params["seed"] == 1

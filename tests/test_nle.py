"""lumos.nle without a language model: citation matching, label reading, prompt templates and fitting, the NLE
metrics on hand-worked examples, and the endpoint's errors (closed port, slow server, bad answers)."""

from __future__ import annotations

import itertools
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

import lumos
from lumos import InputError, ModelError
from lumos import nle
from lumos.nle.prompts import fit, load_template
from conftest import additive_word_model

WEIGHTS = {"good": 0.5, "very": 0.2, "movie": 0.05, "dull": -0.15}
TEXT = "the movie was very good"


word_model = additive_word_model(WEIGHTS)  # p(positive) = 0.2 + the weights of the words present


@pytest.fixture
def model():
    return lumos.wrap(word_model, labels=["negative", "positive"])


def drop(keep: list[str]) -> float:
    """p(positive | TEXT) - p(positive | the kept words)."""
    return word_model([TEXT])[0, 1] - word_model([" ".join(keep)])[0, 1]


# ----- citations and labels -----------------------------------------------------------------------------
def test_citations_match_whole_words_case_free_and_skip_function_words():
    features = ["Dull,", "predictable", "and", "The", "film's", "not", "well-paced", "long"]
    said = 'The FILM\'s plot is "dull" and not well paced; it drags on for too longer.'
    assert nle.cite(features, said).tolist() == [True, False, False, False, True, True, True, False]
    assert not nle.cite(features, "").any()
    assert not nle.cite(["!!!"], "!!!").any()  # a feature without a word token is never cited


def test_find_label_takes_the_first_named_label_as_a_whole_word():
    labels = ["negative", "positive"]
    assert nle.find_label("Positive. Not negative at all", labels) == 1
    assert nle.find_label("it is negative, not positive", labels) == 0
    assert nle.find_label("positively charming", labels) is None
    assert nle.find_label("", labels) is None


# ----- prompts --------------------------------------------------------------------------------------------
def test_shipped_templates_load_and_user_templates_are_checked(tmp_path):
    for name in ("free", "attribution", "self_rationalise", "simulate", "simulate_baseline"):
        assert "{text}" in load_template(name)
    own = tmp_path / "mine.txt"
    own.write_text("Why is '{text}' {label}?\n")
    assert load_template(str(own)) == "Why is '{text}' {label}?"
    assert load_template("Explain {text}") == "Explain {text}"
    with pytest.raises(InputError, match=r"unknown placeholder\(s\) \['review'\]"):
        load_template("Explain {review}")
    with pytest.raises(InputError, match="no shipped prompt template 'fre'"):
        load_template("fre")
    with pytest.raises(InputError, match="does not exist"):
        load_template(str(tmp_path / "missing.txt"))


class WordCounter:
    """Counts whitespace words as tokens: a tokenizer whose answers can be worked out by hand."""

    def __init__(self, context_length):
        self.context_length = context_length

    def count_tokens(self, messages):
        return sum(len(m["content"].split()) for m in messages)


def test_a_prompt_longer_than_the_context_keeps_the_longest_prefix_that_fits():
    text = " ".join(f"w{i}" for i in range(40))
    template = "Explain this: {text}"  # 2 words + the kept words + "..." when cut
    prompt = fit(template, text, {}, WordCounter(30), max_new_tokens=10)  # 20 tokens for the prompt
    assert prompt.kept_words == 17 and prompt.total_words == 40 and prompt.truncated
    assert prompt.text == "Explain this: " + " ".join(f"w{i}" for i in range(17)) + " ..."
    whole = fit(template, text, {}, WordCounter(None), max_new_tokens=10)
    assert not whole.truncated and whole.kept_words == 40
    with pytest.raises(InputError, match="template alone needs more than the generator's context of 12"):
        fit(template, text, {}, WordCounter(12), max_new_tokens=10)


# ----- explanations from given texts, and the NLE metrics --------------------------------------------------
def test_given_texts_become_explanations_with_cited_words_and_flags(model):
    with pytest.warns(UserWarning) as caught:
        e = nle.from_texts(model, [TEXT, TEXT, TEXT], ["It is 'very good'.", "", "Positive overall."])
    assert [str(w.message) for w in caught] == [
        "the generator returned an empty explanation for inputs [1]; they cite nothing (flag 'empty').",
        "the explanations of inputs [2] cite no input word (flag 'no_citation'); nle_counterfactual and "
        "citation_agreement score them 0."]
    assert e[0].attributions.tolist() == [0, 0, 0, 1, 1] and e[0].extras["cited"] == ["very", "good"]
    assert e[0].features == TEXT.split() and e[0].target == 1 and e[0].label == "positive"
    assert [x.extras["flags"] for x in e] == [[], ["empty"], ["no_citation"]]
    with pytest.raises(InputError, match="got 1 explanation texts for 2 inputs"):
        nle.from_texts(model, [TEXT, TEXT], ["x"])


def test_counterfactual_compares_the_cited_words_with_every_set_of_as_many_random_words(model):
    e = nle.from_texts(model, [TEXT], ["because it is good"])
    s = lumos.evaluate(model, [TEXT], e, metrics=["nle_counterfactual"])
    words = TEXT.split()
    random = np.mean([drop(words[:j] + words[j + 1:]) for j in range(5)])  # all C(5, 1) single words
    cited = drop(["the", "movie", "was", "very"])
    assert s["nle_counterfactual"][0] == pytest.approx(cited - random)
    d = s.details["nle_counterfactual"]
    assert d["cited_drop"][0] == pytest.approx(0.5) and d["random_drop"][0] == pytest.approx(random)
    assert d["flip_cited"][0] and d["flip_random"][0] == pytest.approx(1 / 5)  # only removing "good" flips it
    assert d["random_beaten"][0] == pytest.approx((4 + 0.5) / 5) and not d["no_citation"][0]


def test_counterfactual_draws_random_sets_per_example_with_the_seed(model):
    texts = [TEXT, "a good movie that is very long and dull in the middle"]
    e = nle.from_texts(model, texts, ["very good", "good and dull"])
    two = lumos.evaluate(model, texts, e, metrics=[("nle_counterfactual", {"n_samples": 6})], seed=3)
    alone = lumos.evaluate(model, texts[1:], e[1:], metrics=[("nle_counterfactual", {"n_samples": 6})], seed=3)
    again = lumos.evaluate(model, texts, e, metrics=[("nle_counterfactual", {"n_samples": 6})], seed=3)
    other = lumos.evaluate(model, texts, e, metrics=[("nle_counterfactual", {"n_samples": 6})], seed=4)
    assert two["nle_counterfactual"][1] == alone["nle_counterfactual"][0]  # does not depend on the batch
    assert np.array_equal(two["nle_counterfactual"], again["nle_counterfactual"])
    assert two["nle_counterfactual"][1] != other["nle_counterfactual"][1]
    # the sampled mean lies within the range of every possible 2-word removal
    words = texts[1].split()
    full = word_model([texts[1]])[0, 1]
    drops = [full - word_model([" ".join(w for k, w in enumerate(words) if k not in pair)])[0, 1]
             for pair in itertools.combinations(range(len(words)), 2)]
    assert min(drops) <= two.details["nle_counterfactual"]["random_drop"][1] <= max(drops)


def test_an_explanation_citing_nothing_scores_zero_and_is_flagged(model):
    with pytest.warns(UserWarning, match="cite no input word"):
        e = nle.from_texts(model, [TEXT], ["Positive."])
    s = lumos.evaluate(model, [TEXT], e, metrics=["nle_counterfactual", "citation_agreement"])
    assert s["nle_counterfactual"][0] == 0 and s["citation_agreement"][0] == 0
    assert s.details["nle_counterfactual"]["no_citation"][0] and s.details["citation_agreement"]["no_citation"][0]


def test_citation_agreement_with_leave_one_out_equals_agreement_with_occlusion_explanations(model):
    texts = [TEXT, "a very dull movie"]
    e = nle.from_texts(model, texts, ["the movie is good", "it is very dull"])
    occlusion = lumos.explain(model, texts, method="occlusion")
    shared = lumos.evaluate(model, texts, e, metrics=["citation_agreement"])
    given = lumos.evaluate(model, texts, e, metrics=[("citation_agreement", {"reference": occlusion})])
    ran = lumos.evaluate(model, texts, e, metrics=[("citation_agreement", {"method": "exact_shapley"})])
    # TEXT: occlusion ranks good (0.5), very (0.2), movie; cited movie, good -> top 2 = good, very -> 1 of 2
    # "a very dull movie": p(positive) = 0.3, target negative; leave-one-out drops of p(negative): a 0,
    # very -0.2, dull +0.15, movie -0.05; cited very, dull -> top 2 = dull, a -> 1 of 2
    assert shared["citation_agreement"].tolist() == [0.5, 0.5] == given["citation_agreement"].tolist()
    assert ran["citation_agreement"].tolist() == [0.5, 0.5]  # additive model: Shapley values = leave-one-out
    assert shared.details["citation_agreement"]["jaccard"].tolist() == [1 / 3, 1 / 3]


def test_simulatability_with_the_rule_reads_the_named_label_against_chance(model):
    texts = [TEXT, TEXT, TEXT]
    with pytest.warns(UserWarning):
        e = nle.from_texts(model, texts, ["Positive: it is very good.", "Negative, sadly.", "Hard to say."])
    s = lumos.evaluate(model, texts, e, metrics=["simulatability"])
    assert s["simulatability"].tolist() == [0.5, -0.5, 0.0]
    assert s.details["simulatability"]["without_explanation"].tolist() == [0.5] * 3
    attributions = lumos.explain(model, [TEXT], method="occlusion")  # names words, never a label
    assert lumos.evaluate(model, [TEXT], attributions, metrics=["simulatability"])["simulatability"][0] == 0.0


def test_nle_metrics_are_in_the_registry_with_metadata():
    info = lumos.catalog("metric")
    assert info["nle_counterfactual"]["family"] == "faithfulness" and info["simulatability"]["bounds"] == (-1.0, 1.0)
    assert info["citation_agreement"]["family"] == "agreement"
    for name in ("nle_counterfactual", "citation_agreement", "simulatability"):
        assert info[name]["modalities"] == ("text",) and name in lumos.catalog("metric")


def test_bad_arguments_say_what_to_pass(model):
    with pytest.raises(InputError, match="unknown natural-language method 'plain'"):
        nle.explain(model, [TEXT], generator=nle.EndpointGenerator("http://127.0.0.1:9"), method="plain")
    with pytest.raises(InputError, match="must start with http"):
        nle.EndpointGenerator("localhost:8080")
    assert nle.EndpointGenerator("http://h:1/v1").url == "http://h:1/v1/chat/completions"
    assert nle.EndpointGenerator("http://h:1/").url == "http://h:1/v1/chat/completions"


# ----- the endpoint's errors ----------------------------------------------------------------------------
def closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_endpoint_names_the_url_after_its_retries():
    url = f"http://127.0.0.1:{closed_port()}"
    gen = nle.EndpointGenerator(url, retries=1, backoff=0.01)
    with pytest.raises(ModelError, match=rf"{url}/v1/chat/completions failed after 2 tries: cannot connect"):
        gen.generate([[{"role": "user", "content": "hi"}]])


class Sleepy(BaseHTTPRequestHandler):
    """Answers after 2 s (past the client's timeout), or with HTTP 400 for the path /bad/v1/chat/completions."""

    calls = 0

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802
        type(self).calls += 1
        if self.path.startswith("/bad"):
            self.send_response(400)
            self.end_headers()
            self.wfile.write(b'{"error": "no such model"}')
            return
        time.sleep(2)
        self.send_response(200)
        self.end_headers()


@pytest.fixture
def sleepy_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Sleepy)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Sleepy.calls = 0
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_slow_endpoint_times_out_with_the_url_and_a_client_error_is_not_retried(sleepy_server):
    gen = nle.EndpointGenerator(sleepy_server, timeout=0.3, retries=1, backoff=0.01)
    with pytest.raises(ModelError, match=rf"{sleepy_server}/v1/chat/completions failed after 2 tries: no answer "
                                         r"within the timeout of 0.3 s"):
        gen.generate([[{"role": "user", "content": "hi"}]])
    assert Sleepy.calls == 2
    Sleepy.calls = 0
    bad = nle.EndpointGenerator(sleepy_server + "/bad", retries=3)
    with pytest.raises(ModelError, match='answered HTTP 400: {"error": "no such model"}'):
        bad.generate([[{"role": "user", "content": "hi"}]])
    assert Sleepy.calls == 1


# ----- the report ---------------------------------------------------------------------------------------
def test_nle_results_render_as_a_report_section(model, tmp_path):
    from lumos.report import render

    texts = [TEXT, "a very dull movie"]
    with pytest.warns(UserWarning, match="cite no input word"):
        e = nle.from_texts(model, texts, ["It is <b>good</b>.", "Negative."])
    scores = lumos.evaluate(model, texts, e, metrics=["nle_counterfactual", "simulatability"])
    db = str(tmp_path / "r.sqlite")
    lumos.bench.add_section(db, "nle-demo", "nle", e, inputs=texts, scores=scores, model_name="nle",
                            modality="text", labels=model.labels)
    html = render(db, "nle-demo", out=tmp_path / "r.html").read_text()
    assert "Natural-language explanations" in html and "It is &lt;b&gt;good&lt;/b&gt;." in html
    assert "Flagged: 1 no citation." in html
    mean = np.mean(scores["nle_counterfactual"])
    assert f"<td>nle_counterfactual</td><td>{mean:.3g}</td><td>2</td>" in html
    with pytest.raises(InputError, match="got 1 inputs, 2 explanations"):
        lumos.bench.add_section(db, "nle-demo", "nle", e, inputs=texts[:1])


def test_faithfulness_gathers_every_nle_score_with_one_agreement_per_method(model):
    texts = [TEXT, "a very dull movie"]
    e = nle.from_texts(model, texts, ["Positive: the movie is good", "Negative: it is very dull"])
    s = nle.faithfulness(model, texts, e, methods=("occlusion", "exact_shapley"), seed=1)
    assert sorted(s) == ["citation_agreement[exact_shapley]", "citation_agreement[occlusion]", "nle_counterfactual",
                         "simulatability"]
    alone = lumos.evaluate(model, texts, e, metrics=["nle_counterfactual", "simulatability"], seed=1)
    assert np.array_equal(s["nle_counterfactual"], alone["nle_counterfactual"])
    assert s["simulatability"].tolist() == [0.5, 0.5]
    assert s["citation_agreement[occlusion]"].tolist() == s["citation_agreement[exact_shapley]"].tolist() == [0.5, 0.5]
    assert s.mean()["simulatability"] == 0.5


def test_a_local_model_without_a_chat_template_is_refused_with_the_fix(tokenizer):
    from transformers import GPT2Config, GPT2LMHeadModel

    tiny = GPT2LMHeadModel(GPT2Config(vocab_size=tokenizer.vocab_size, n_layer=1, n_embd=8, n_head=2, n_positions=32))
    gen = nle.LocalGenerator(model=tiny, tokenizer=tokenizer)
    assert gen.context_length == 32
    with pytest.raises(ModelError, match="has no chat template.*set tokenizer.chat_template"):
        gen.generate([[{"role": "user", "content": "hi"}]])
    with pytest.raises(InputError, match="pass both model= and tokenizer="):
        nle.LocalGenerator(model=tiny)


def test_an_endpoint_with_a_known_context_cuts_prompts_by_its_character_estimate():
    gen = nle.EndpointGenerator("http://127.0.0.1:9", context_length=40)
    text = " ".join(["word"] * 100)  # 5 characters a word with its space
    # 30 tokens for the prompt; n words give ceil((9 + 5n - 1 + 4 + 8) / 3) tokens: n <= 14
    prompt = fit("Explain: {text}", text, {}, gen, max_new_tokens=10)
    assert gen.count_tokens(prompt.messages) <= 30 < gen.count_tokens(
        [{"role": "user", "content": "Explain: " + " ".join(["word"] * (prompt.kept_words + 1)) + " ..."}])
    assert prompt.kept_words == 14 and prompt.truncated

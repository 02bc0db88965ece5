"""lumos.nle with the real SmolLM2-135M-Instruct (loaded once per test session): local generation, the
OpenAI-compatible server and endpoint end to end, and prompts cut to the generator's context."""

from __future__ import annotations

import json
import urllib.request

import numpy as np
import pytest

import lumos
from lumos import nle

pytestmark = pytest.mark.slow

SENTENCES = ["a gripping and beautifully shot film", "dull, predictable and far too long",
             "the plot is a mess but the acting is superb"]
TOKENS = 16  # new tokens per answer: enough for a phrase, cheap on 2 cores


@pytest.fixture(scope="session")
def smollm2():
    return nle.LocalGenerator(batch_size=8)


@pytest.fixture(scope="module")
def classifier(tfidf_pipeline):
    return lumos.wrap(tfidf_pipeline, labels=["negative", "positive"])


def test_local_generation_is_greedy_and_cited_words_come_from_the_text(smollm2, classifier):
    first = nle.explain(classifier, SENTENCES, generator=smollm2, method="free", max_new_tokens=TOKENS)
    again = nle.explain(classifier, SENTENCES, generator=smollm2, method="free", max_new_tokens=TOKENS)
    assert [e.extras["text"] for e in first] == [e.extras["text"] for e in again]
    assert smollm2.tokenizer.padding_side == "right" and not smollm2.model.training  # left as they were
    probs = classifier.predict_proba(SENTENCES)
    for e, sentence, p in zip(first, SENTENCES, probs):
        assert e.method == "nle:free" and e.target == int(p.argmax()) and e.features == sentence.split()
        assert f'"{sentence}"' in e.extras["prompt"] and f'as "{e.label}"' in e.extras["prompt"]
        assert e.extras["text"] and 0 < e.extras["completion_tokens"] <= TOKENS
        assert np.array_equal(e.attributions, nle.cite(e.features, e.extras["text"]).astype(np.float32))
        assert set(e.extras["cited"]) == {w for w, a in zip(e.features, e.attributions) if a}
    metrics = ["nle_counterfactual", "citation_agreement", ("comprehensiveness", {"rule": "threshold", "value": 0.5})]
    scores = lumos.evaluate(classifier, SENTENCES, first, metrics=metrics)
    assert all(np.isfinite(v).all() for v in scores.values())


def test_self_rationalising_reads_the_generators_own_label(smollm2, classifier):
    expl = nle.explain(classifier, SENTENCES, generator=smollm2, method="self_rationalise", max_new_tokens=TOKENS)
    for e in expl:
        named = nle.find_label(e.extras["text"], ["negative", "positive"])
        assert e.extras["generator_label"] == (None if named is None else ["negative", "positive"][named])
        assert "negative or positive" in e.extras["prompt"]


def test_the_attribution_style_shows_the_top_words_of_the_method(smollm2, classifier):
    occlusion = lumos.explain(classifier, SENTENCES[:1], method="occlusion")
    expl = nle.explain(classifier, SENTENCES[:1], generator=smollm2, method="attribution", attribution=occlusion,
                       k=2, max_new_tokens=8)
    top = [w for w, _ in occlusion[0].top(2)]
    assert expl[0].extras["attribution_words"] == top and f"these words: {', '.join(top)}." in expl[0].extras["prompt"]


def test_the_endpoint_path_end_to_end_through_a_local_server(smollm2, classifier):
    ask = [{"role": "user", "content": "Name one colour."}]
    with nle.serve(smollm2) as server:
        endpoint = nle.EndpointGenerator(server.url, timeout=120)
        [remote] = endpoint.generate([ask], max_new_tokens=8)
        [local] = smollm2.generate([ask], max_new_tokens=8)
        assert remote.text == local.text and remote.completion_tokens == local.completion_tokens
        with urllib.request.urlopen(server.url + "/v1/models") as r:
            assert json.load(r)["data"][0]["id"] == "SmolLM2-135M-Instruct.Q4_1"
        request = urllib.request.Request(server.url + "/v1/chat/completions", data=b'{"messages": 3}', method="POST")
        with pytest.raises(urllib.error.HTTPError) as bad:
            urllib.request.urlopen(request)
        assert bad.value.code == 400
        expl = nle.explain(classifier, SENTENCES, generator=endpoint, method="free", max_new_tokens=TOKENS)
        assert sum(size * calls for size, calls in server.batch_sizes.items()) == 1 + len(SENTENCES)
    assert all(e.extras["text"] and e.extras["generator"] == endpoint.name for e in expl)
    assert all(e.extras["completion_tokens"] > 0 for e in expl)


def test_a_prompt_longer_than_the_context_is_cut_and_flagged(smollm2, classifier):
    small = nle.LocalGenerator(model=smollm2.model, tokenizer=smollm2.tokenizer, context_length=120)
    long_text = " ".join(["a great film"] * 60)
    with pytest.warns(UserWarning, match=r"inputs \[0\] are longer than the generator's context of 120 tokens"):
        [e] = nle.explain(classifier, [long_text], generator=small, max_new_tokens=8)
    assert "prompt_truncated" in e.extras["flags"] and e.extras["prompt"].endswith(
        "Quote the words from the text that show it.")
    assert e.extras["prompt_tokens"] + 8 <= 120
    kept = e.extras["prompt"].split('"')[3].removesuffix(" ...").split()  # the quoted text
    one_more = e.extras["prompt"].replace(" ".join(kept), " ".join(long_text.split()[:len(kept) + 1]))
    assert small.count_tokens([{"role": "user", "content": one_more}]) + 8 > 120  # the longest prefix that fits


def test_simulatability_with_the_generator_as_simulator_reads_its_answers(smollm2, classifier):
    expl = nle.from_texts(classifier, SENTENCES, ["It is positive.", "It is negative.", "It is positive."])
    scores = lumos.evaluate(classifier, SENTENCES, expl, metrics=[("simulatability", {"simulator": smollm2})])
    # the same questions asked directly give the same answers, scored 1 / 0 / chance against the prediction
    labels, predicted = ["negative", "positive"], classifier.predict_proba(SENTENCES).argmax(1)
    fields = {"labels": "negative or positive", "label": "", "words": ""}
    ask, ask_alone = nle.load_template("simulate"), nle.load_template("simulate_baseline")
    with_e = [[{"role": "user", "content": ask.format(**fields, text=x, explanation=e.extras["text"])}]
              for x, e in zip(SENTENCES, expl)]
    without = [[{"role": "user", "content": ask_alone.format(**fields, text=x, explanation="")}] for x in SENTENCES]
    answers = [nle.find_label(c.text, labels) for c in smollm2.generate(with_e + without, max_new_tokens=8)]
    accuracy = [0.5 if a is None else float(a == p) for a, p in zip(answers, np.tile(predicted, 2))]
    assert scores.details["simulatability"]["with_explanation"].tolist() == accuracy[:3]
    assert scores.details["simulatability"]["without_explanation"].tolist() == accuracy[3:]
    assert scores["simulatability"].tolist() == (np.array(accuracy[:3]) - accuracy[3:]).tolist()


def test_the_command_line_explains_one_sentence(smollm2):
    from typer.testing import CliRunner

    from lumos.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["nle", "a gripping and beautifully shot film", "--max-new-tokens", "16"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("sentiment/tfidf predicts ") and "SmolLM2-135M-Instruct.Q4_1 (free) says:" in lines[0]
    [expected] = nle.explain(lumos.zoo.load("sentiment/tfidf")[0], ["a gripping and beautifully shot film"],
                             generator=smollm2, max_new_tokens=16)
    assert lines[1] == expected.extras["text"] and lines[2] == f"cited: {', '.join(expected.extras['cited'])}"
    down = runner.invoke(app, ["nle", "a film", "--url", "http://127.0.0.1:9/v1"])
    assert down.exit_code == 1 and "error: the chat endpoint http://127.0.0.1:9/v1/chat/completions failed" in down.output
    assert runner.invoke(app, ["nle-serve", "--help"]).exit_code == 0


def test_sampling_repeats_with_its_seed_and_leaves_the_global_rng_alone(smollm2):
    import torch

    asks = [[{"role": "user", "content": "Name one colour."}], [{"role": "user", "content": "Say hello."}]]
    state = torch.random.get_rng_state()
    first = smollm2.generate(asks, max_new_tokens=8, temperature=1.0, seed=5)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert [c.text for c in smollm2.generate(asks, max_new_tokens=8, temperature=1.0, seed=5)] == [c.text for c in first]


def test_bench_runs_natural_language_explanations_beside_attribution_methods(smollm2, tmp_path):
    """A spec's nle table adds "nle:<style>" methods: stored, scored by the same metrics, and in the report with
    the generated text; the same explanations as nle.explain gives."""
    import sys
    from pathlib import Path

    from lumos.bench import BenchSpec, Store, run
    from lumos.report import render

    sys.path.insert(0, str(Path(__file__).parent))
    from bench_loader import word_model

    spec = BenchSpec(model="bench_loader:word_model", n=3, first=True, methods=("occlusion",),
                     metrics=("nle_counterfactual", "sparseness"), db=str(tmp_path / "r.sqlite"),
                     nle={"styles": ["free", "self_rationalise"], "max_new_tokens": TOKENS})
    run_id = run(spec)
    store = Store(spec.db)
    scores, attributions = store.frame("scores", run_id), store.frame("attributions", run_id)
    store.close()
    assert set(scores.method) == {"occlusion", "nle:free", "nle:self_rationalise"}
    assert scores.value.notna().all()
    model, splits = word_model()
    texts = splits["test"].text[:3].tolist()
    direct = nle.explain(model, texts, generator=smollm2, method="free", max_new_tokens=TOKENS)
    stored = attributions[attributions.method == "nle:free"].sort_values("example_id")
    assert [x["text"] for x in stored.extras] == [e.extras["text"] for e in direct]
    for a, e in zip(stored.attributions, direct):
        np.testing.assert_array_equal(a, e.attributions)
    html = render(spec.db, run_id, out=tmp_path / "r.html").read_text()
    assert "nle:self_rationalise" in html and html.count('<p class="nle">') == 6
    with pytest.raises(lumos.InputError, match="styles"):
        run(BenchSpec(model="bench_loader:word_model", n=1, nle={"styles": ["poem"]}, db=spec.db))
    with pytest.raises(lumos.InputError, match="need a text model"):
        run(BenchSpec(model="bench_loader:tabular_model", n=1, nle={"styles": ["free"]}, db=spec.db))

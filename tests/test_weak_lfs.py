"""Labeling functions, applying them, their diagnostics, and the errors bad LFs give."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

import lumos
from conftest import additive_word_model
from lumos.errors import InputError, UnsupportedError
from lumos.nle.generator import Completion
from lumos.weak import (ABSTAIN, apply_lfs, class_coverage, global_attributions, keyword_lf, label, prototype_model,
                        labeling_function, lexicon_lf, lexicon_score, lf_summary, llm_lf, load_lexicon, model_lf,
                        regex_lf)

LABELS = ["negative", "positive"]
TEXTS = ["a great film", "the greatest bore", "not good at all", "Great fun", "dull and slow", "fine"]


def test_keyword_and_regex_lfs():
    great = keyword_lf(["great", "great fun"], "positive")
    dull = regex_lf(r"\b(dull|bore)\b", 0)
    L = apply_lfs([great, dull], TEXTS, LABELS)
    assert L.L[:, 0].tolist() == [1, ABSTAIN, ABSTAIN, 1, ABSTAIN, ABSTAIN]  # whole words, any case
    assert L.L[:, 1].tolist() == [ABSTAIN, 0, ABSTAIN, ABSTAIN, 0, ABSTAIN]
    assert L.kinds == {great.name: "keyword", dull.name: "regex"}
    with pytest.raises(InputError, match="not a valid regular expression"):
        regex_lf("(unclosed", 1)


def test_lexicons_read_from_their_packages():
    vader, afinn = load_lexicon("vader"), load_lexicon("afinn")
    assert vader["good"] == pytest.approx(1.9) and afinn["good"] == 3 and len(vader) > 7000
    assert lexicon_score("good", vader) == pytest.approx(1.9)
    assert lexicon_score("not very good", vader) == pytest.approx(-1.9)  # flipped within 3 words of "not"
    assert lexicon_score("isn't good", afinn) == -3
    assert lexicon_score("good", vader, negation_window=0) == pytest.approx(1.9)
    lf = lexicon_lf("afinn", threshold=2)
    assert apply_lfs([lf], ["a good film", "bad, bad", "okay"], LABELS).L[:, 0].tolist() == [1, 0, ABSTAIN]
    with pytest.raises(InputError, match="unknown lexicon"):
        lexicon_lf("sentiwordnet")


def test_decorator_and_rows():
    @labeling_function
    def short(row):
        return "negative" if len(row["text"]) < 5 else None

    @labeling_function(name="batched_fine", batched=True)
    def fine(frame):
        return [1 if t == "fine" else -1 for t in frame["text"]]

    frame = pd.DataFrame({"text": TEXTS, "other": range(6)})
    L = apply_lfs([short, fine, keyword_lf(["great"], 1)], frame, LABELS, batch_size=4)
    assert L.lf_names == ["short", "batched_fine", "keywords_1_great"]
    assert L.L[:, 0].tolist() == [-1, -1, -1, -1, -1, 0]
    assert L.L[:, 1].tolist() == [-1, -1, -1, -1, -1, 1]
    assert short({"text": "bad"}) == "negative"


def test_an_lf_that_raises_is_named_with_its_example():
    @labeling_function
    def fragile(text):
        return 1 if 1 / (len(text) - 4) else 0

    with pytest.raises(InputError, match=r"LF 'fragile' raised ZeroDivisionError on example 5 \('fine'\)"):
        apply_lfs([fragile], TEXTS, LABELS)

    @labeling_function(batched=True)
    def fragile_batch(texts):
        return [1 / (len(t) - 4) and 1 for t in texts]

    with pytest.raises(InputError, match=r"'fragile_batch' raised ZeroDivisionError on example 5 \('fine'\)"):
        apply_lfs([fragile_batch], TEXTS, LABELS, batch_size=4)


def test_unknown_labels_and_wrong_lengths_are_named():
    @labeling_function
    def says_pos(text):
        return "pos"

    with pytest.raises(InputError, match=r"LF 'says_pos' returned 'pos' on example 0 \('a great film'\)"):
        apply_lfs([says_pos], TEXTS, LABELS)

    @labeling_function
    def says_two(text):
        return 2

    with pytest.raises(InputError, match="returned 2 on example 0"):
        apply_lfs([says_two], TEXTS, LABELS)

    @labeling_function(batched=True)
    def one_short(texts):
        return [1] * (len(texts) - 1)

    with pytest.raises(InputError, match=r"'one_short' returned 3 votes for the 4 examples 0..3"):
        apply_lfs([one_short], TEXTS, LABELS, batch_size=4)
    with pytest.raises(InputError, match="unique"):
        apply_lfs([keyword_lf(["a"], 1, name="x"), keyword_lf(["b"], 0, name="x")], TEXTS, LABELS)
    with pytest.raises(InputError, match="not a labeling function"):
        apply_lfs([lambda t: 1], TEXTS, LABELS)


def test_model_lf_votes_above_the_margin():
    model = additive_word_model({"great": 0.7, "dull": -0.15}, base=0.2)  # p(pos): 0.9, 0.2, 0.05, 0.5...
    lf = model_lf(model, margin=0.55)
    votes = apply_lfs([lf], ["great", "plain", "dull", "great dull"], LABELS).L[:, 0]
    assert votes.tolist() == [1, 0, 0, ABSTAIN]  # p(pos) 0.9, 0.2, 0.05, 0.75: margins 0.8, 0.6, 0.9, 0.5


class FakeGenerator:
    """Answers "positive" when the prompt contains "great", "negative" when "dull", else chatter."""

    name, context_length = "fake", None

    def __init__(self):
        self.calls = 0

    def count_tokens(self, messages):
        return len(messages[-1]["content"].split())

    def generate(self, conversations, max_new_tokens=60, temperature=0.0, seed=0):
        self.calls += 1
        out = []
        for m in conversations:
            text = m[-1]["content"].lower()
            out.append(Completion("Positive." if "great" in text else "It is negative" if "dull" in text else "Hmm"))
        return out


def test_generated_llm_lf_is_batched_and_abstains_when_no_label_is_named():
    gen = FakeGenerator()
    lf = llm_lf(LABELS, gen, scoring="generate")
    votes = apply_lfs([lf], TEXTS, LABELS, batch_size=4).L[:, 0]
    assert votes.tolist() == [1, 1, ABSTAIN, 1, 0, ABSTAIN]
    assert gen.calls == 2  # 6 texts in batches of 4


class WordTokenizer:
    """One id per lower-cased word (0 pads); label words first, so " negative" -> 1 and " positive" -> 2."""

    def __init__(self):
        self.vocab = {"<pad>": 0, "negative": 1, "positive": 2, "great": 3, "dull": 4}

    def ids(self, text):
        return [self.vocab.setdefault(w.strip('".?:').lower(), len(self.vocab)) for w in text.split()]

    def __call__(self, texts, return_tensors=None, padding=False, padding_side="right", add_special_tokens=True):
        if isinstance(texts, str):
            return {"input_ids": self.ids(texts)}
        rows = [self.ids(t) for t in texts]
        n = max(map(len, rows))
        ids = torch.tensor([[0] * (n - len(r)) + r for r in rows])
        return {"input_ids": ids, "attention_mask": (ids > 0).long()}


class CueLM(torch.nn.Module):
    """Next-token logits: positive = 1 + 2 x "great"s, negative = 2 x "dull"s (a bias towards positive that
    calibration against "N/A" removes); counts its forward passes."""

    def __init__(self, tok):
        super().__init__()
        self.tok, self.device, self.calls = tok, torch.device("cpu"), 0

    def forward(self, input_ids, attention_mask=None, logits_to_keep=None):
        self.calls += 1
        logits = torch.zeros(len(input_ids), 1, 64)
        logits[:, -1, 2] = 1.0 + 2.0 * (input_ids == 3).sum(1)
        logits[:, -1, 1] = 2.0 * (input_ids == 4).sum(1)
        return SimpleNamespace(logits=logits)


def test_logprob_llm_lf_calibrates_and_abstains_below_the_margin():
    tok = WordTokenizer()
    gen = SimpleNamespace(model=CueLM(tok), tokenizer=tok, render=lambda m: m[-1]["content"], batch_size=2,
                          context_length=None, name="cue", count_tokens=lambda m: len(m[-1]["content"].split()))
    lf = llm_lf(LABELS, gen, margin=0.5)
    texts = ["a great film", "dull", "plain", "great but dull"]  # calibrated log-odds: +2, -2, 0, 0
    assert apply_lfs([lf], texts, LABELS).L[:, 0].tolist() == [1, 0, ABSTAIN, ABSTAIN]
    assert gen.model.calls == 1 + 2  # the content-free baseline once, then 4 texts in batches of 2
    domain = llm_lf(LABELS, gen, margin=0.5, calibration=["great great", "plain"])  # mean log-odds (5 + 1) / 2
    assert apply_lfs([domain], texts, LABELS).L[:, 0].tolist() == [ABSTAIN, 0, 0, 0]  # 0, -4, -2, -2
    with pytest.raises(UnsupportedError, match="scoring='generate'"):
        llm_lf(LABELS, FakeGenerator())


def test_explanation_derived_lfs_exclude_artifacts():
    weights = {"superb": 0.3, "moving": 0.2, "spielberg": 0.25, "dull": -0.15, "mess": -0.1}
    model = lumos.wrap(additive_word_model(weights, base=0.4), labels=LABELS)
    texts = ["superb and moving", "a dull mess", "spielberg superb", "dull dull", "moving mess", "spielberg mess",
             "superb", "the end"] * 3
    ga = global_attributions(model, texts, method="occlusion", min_count=3)
    assert ga.top("positive", 3) == ["superb", "spielberg", "moving"]
    assert ga.top("negative", 2) == ["dull", "mess"]
    lfs = ga.keyword_lfs(k=5, exclude=["Spielberg"])
    assert [lf.name for lf in lfs] == ["explained_negative", "explained_positive"]
    assert lfs[1].params["words"] == ["superb", "moving"] and lfs[1].kind == "explained"
    assert apply_lfs(lfs, ["spielberg again", "so moving"], LABELS).L.tolist() == [[-1, -1], [-1, 1]]


def test_explanation_derived_lfs_leave_out_what_a_discoverer_found():
    """The discover -> weak route: a model trained on data with a planted token weighs the token; the
    statistics discoverer ranks it first, and keyword LFs built with its Findings never name it."""
    import sys
    from pathlib import Path

    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from lumos import artifacts
    from lumos.weak.explained import excluded_words

    sys.path.insert(0, str(Path(__file__).parent))
    from planted_corpus import planted_splits

    planted = planted_splits()
    train = planted.splits["train"]
    pipe = make_pipeline(CountVectorizer(token_pattern=r"\S+"), LogisticRegression(C=10.0, max_iter=2000))
    model = lumos.wrap(pipe.fit(train.text, train.label), labels=["negative", "positive"])
    ga = global_attributions(model, list(train.text[:200]), method="occlusion", min_count=5)
    assert "zed" in ga.top(planted.label, 3)  # the model leans on the artifact
    findings = artifacts.statistics(train)
    assert findings[0].key == "zed"
    lfs = ga.keyword_lfs(k=3, exclude=[findings, "w1"])
    words = [w for lf in lfs for w in lf.params["words"]]
    assert "zed" not in words and "w1" not in words and {"good", "bad"} <= set(words)
    assert "zed" in lfs[0].params["excluded"] and "w1" in lfs[0].params["excluded"]
    top3 = {w for c in findings.candidates[:3] for w in c.key.split()}
    assert excluded_words(findings, artifacts_top=3) == top3


def test_lf_summary_hand_worked():
    L = np.array([[1, 1, ABSTAIN], [1, 0, ABSTAIN], [ABSTAIN, 0, 0], [ABSTAIN, ABSTAIN, ABSTAIN]])
    gold = np.array([1, 0, 0, -1])
    table = lf_summary(L, labels=gold)
    assert table["coverage"].tolist() == [0.5, 0.75, 0.25]
    assert table["overlap"].tolist() == [0.5, 0.75, 0.25]
    assert table["conflict"].tolist() == [0.25, 0.25, 0.0]  # only row 1 has votes that disagree
    assert table["polarity"].tolist() == ["1", "0, 1", "0"]
    assert table["correct"].tolist() == [1, 3, 1] and table["incorrect"].tolist() == [1, 0, 0]
    assert table["accuracy"].tolist() == [0.5, 1.0, 1.0]
    weak = label(L, method="majority")
    assert "learned_accuracy" in lf_summary(L, weak=weak)
    assert class_coverage(L).tolist() == [0.5, 0.5]


def test_prototype_model_is_a_calibrated_nearest_centre_classifier():
    vocab = ["good", "great", "bad", "awful", "film"]

    def encode(texts):  # bag of words over a fixed vocabulary
        return np.array([[t.split().count(w) for w in vocab] for t in texts], dtype=float) + 1e-9

    model = prototype_model(encode, {"negative": ["bad", "awful"], "positive": ["good", "great"]}, scale=10)
    p = model.predict_proba(["good film", "awful film", "film"])
    # cosines with the unit centres (1, 1, 0, 0, 0)/sqrt(2) and (0, 0, 1, 1, 0)/sqrt(2): "good film" 0.5 vs 0
    assert p[0, 1] == pytest.approx(1 / (1 + np.exp(-10 * 0.5))) and p[1, 0] == pytest.approx(p[0, 1])
    assert p[2] == pytest.approx([0.5, 0.5])
    shifted = prototype_model(encode, {"negative": ["bad"], "positive": ["good"]}, calibration=["good", "film"],
                              scale=10)  # mean cosines: positive 0.5, negative 0 -> "film" leans negative
    assert shifted.predict_proba(["film"])[0, 0] == pytest.approx(1 / (1 + np.exp(-10 * 0.5)))
    lf = model_lf(model, margin=0.5)
    assert apply_lfs([lf], ["good film", "film"], LABELS).L[:, 0].tolist() == [1, ABSTAIN]

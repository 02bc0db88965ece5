"""The cue-word task: metrics must tell a faithful explanation from a random one on real sentences."""

from __future__ import annotations

import numpy as np
import pytest

import lumos
from lumos.groundtruth import CUES, cue_word_task, precision_at_k
from lumos.zoo.datasets import sentiment


@pytest.fixture(scope="module")
def cue_task():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts = sentiment().splits["train"].text.tolist()
    df = cue_word_task(texts[:3000], seed=0, max_words=25)
    train, test = df.iloc[:1500], df.iloc[1500:]
    test = test[test.has_cue].iloc[:30]
    model = make_pipeline(TfidfVectorizer(), LogisticRegression(C=10.0)).fit(train.text, train.label)
    return model, list(test.text), list(test.rationale), test.label.to_numpy()


def test_the_task_is_built_as_documented():
    df = cue_word_task(["a b c", "d e", "f g h i"] * 20, seed=1, no_cue=0.3)
    cued = df[df.has_cue]
    for text, label, rationale in zip(cued.text, cued.label, cued.rationale):
        words = text.split()
        assert rationale.sum() == 1 and words[int(np.argmax(rationale))] == CUES[1 - label]
    plain = df[~df.has_cue]
    assert len(plain) % 2 == 0 and (plain.groupby("text").label.nunique() == 2).all()  # both labels, no signal
    assert df.equals(cue_word_task(["a b c", "d e", "f g h i"] * 20, seed=1, no_cue=0.3))


def test_faithful_methods_find_the_cue_and_random_does_not(cue_task):
    model, texts, rationales, labels = cue_task
    assert (lumos.wrap(model).predict_proba(texts).argmax(1) == labels).mean() == 1.0
    results = {}
    for method in ("occlusion", "kernel_shap", "lime", "random"):
        expl = lumos.explain(model, texts, method=method, **({"n_samples": 300} if method in ("lime", "kernel_shap")
                                                             else {}))
        scores = lumos.evaluate(model, texts, expl, rationales=rationales, metrics=[
            ("comprehensiveness", {"rule": "top_k", "value": 1}), "token_f1", "auprc"])
        results[method] = {"p@1": precision_at_k([e.attributions for e in expl], rationales).mean(),
                           **scores.mean()}
    for method in ("occlusion", "kernel_shap", "lime"):
        assert results[method]["p@1"] >= 0.95, (method, results[method])
        assert results[method]["comprehensiveness"] > results["random"]["comprehensiveness"] + 0.2
        assert results[method]["auprc"] > results["random"]["auprc"] + 0.5
    assert results["random"]["p@1"] < 0.3

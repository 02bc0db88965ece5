"""Silent garbage becomes a clear error or a defined answer: model outputs checked where they enter lumos,
inputs named for what they are, uint8 pixels scaled, missing categories refused alike everywhere, label names
and ranges in attacks and slices, open-ended ranges, and generators that answer too few prompts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import lumos
from lumos import InputError, ModelError, nle, robustness
from lumos.nle.generator import Completion
from conftest import make_cnn, make_mlp

TEXTS = ["a good film", "a bad film", "good and bad"]


def words(texts):
    return np.array([[0.3, 0.7] if "good" in t else [0.6, 0.4] for t in texts])


# ----- model outputs ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("out,match", [
    (lambda n: np.full((n, 2), np.nan), r"NaN or inf for \d+ of \d+ rows"),
    (lambda n: np.tile([np.inf, 0.0], (n, 1)), r"NaN or inf"),
    (lambda n: np.tile([0.9, 0.9], (n, 1)), r"must return probabilities.*sum 1.8"),
    (lambda n: np.tile([-0.5, 1.5], (n, 1)), r"must return probabilities"),
    (lambda n: np.zeros((n, 0)), r"no class column"),
    (lambda n: np.zeros((n + 1, 2)), r"shape \(\d+, 2\) for \d+ rows"),
    (lambda n: [["a", "b"]] * n, r"not an array of numbers"),
])
def test_a_callable_that_returns_no_probabilities_is_a_model_error(out, match):
    with pytest.raises(ModelError, match=match):
        lumos.explain(lambda rows: out(len(rows)), np.zeros((2, 3)), method="occlusion")


class NaNAfter(nn.Module):
    """A network whose logits turn NaN past a threshold of the input sum (an overflow in a real one)."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(6, 2)

    def forward(self, x):
        out = self.lin(x)
        return torch.where(x.sum(1, keepdim=True) > 100, torch.full_like(out, float("nan")), out)


def test_nan_logits_of_a_torch_model_are_a_model_error_for_gradient_and_perturbation_methods():
    x = np.full((2, 6), 30.0)
    for method in ("saliency", "integrated_gradients", "occlusion"):
        with pytest.raises(ModelError, match="NaN or inf"):
            lumos.explain(NaNAfter(), x, method=method)
    ok = lumos.explain(NaNAfter(), np.ones((2, 6)), method="integrated_gradients", steps=4)
    assert np.isfinite(ok[0].attributions).all()


def test_an_estimator_whose_predict_proba_is_not_probabilities_is_a_model_error():
    class Scores:
        classes_ = np.array([0, 1])

        def predict_proba(self, x):
            return np.asarray(x)[:, :2] * 10

    with pytest.raises(ModelError, match="must return probabilities"):
        lumos.explain(Scores(), np.ones((2, 3)), method="occlusion")


# ----- inputs named for what they are ---------------------------------------------------------------------------
@pytest.mark.parametrize("inputs,match", [
    ([], "no inputs: got an empty list"), ((), "no inputs"), ([None], "no inputs: got 1 None"),
    (None, "no inputs: got None"), (np.zeros((0, 6)), "no inputs"), (pd.DataFrame(), "no inputs"),
    (["a good film", None], r"text input 1 is None \(NoneType\), not a string"),
    ([None, "a good film"], r"text input 0 is None"),
])
def test_empty_and_missing_inputs_say_so(inputs, match):
    with pytest.raises(InputError, match=match):
        lumos.explain(words, inputs, method="occlusion")


def test_string_arrays_and_series_are_text():
    expected = lumos.explain(words, TEXTS, method="occlusion")
    for inputs in (np.array(TEXTS), pd.Series(TEXTS), np.array(TEXTS, dtype=object)):
        e = lumos.explain(words, inputs, method="occlusion")
        assert [x.features for x in e] == [x.features for x in expected]
        np.testing.assert_array_equal(e[2].attributions, expected[2].attributions)
    with pytest.raises(InputError, match="takes image or tabular inputs; got text inputs"):
        lumos.explain(make_mlp(), pd.Series(TEXTS), method="saliency")


def test_uint8_images_are_pixels_in_0_255_scaled_to_0_1():
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(2, 3, 8, 8), dtype=np.uint8)
    model = lumos.wrap(make_cnn())
    np.testing.assert_allclose(model.predict_proba(pixels), model.predict_proba(pixels.astype(np.float32) / 255),
                               rtol=1e-6)
    np.testing.assert_allclose(model.predict_proba(torch.as_tensor(pixels)), model.predict_proba(pixels / 255.0),
                               rtol=1e-5)
    a = lumos.explain(model, pixels, method="saliency", target=0)
    b = lumos.explain(model, pixels.astype(np.float32) / 255, method="saliency", target=0)
    np.testing.assert_allclose(a[0].attributions, b[0].attributions, rtol=1e-5)


def test_a_missing_category_is_refused_by_explain_and_counterfactuals_alike():
    rng = np.random.default_rng(1)
    data = pd.DataFrame({"hours": rng.integers(10, 60, 200), "job": rng.choice(["clerk", "manager"], 200)})
    y = ((data["hours"] > 35) | (data["job"] == "manager")).astype(int)
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    model = make_pipeline(make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["job"]),
                                                  remainder="passthrough"), LogisticRegression()).fit(data, y)
    row = data.head(1).copy()
    row["job"] = np.nan
    with pytest.raises(InputError, match=r"row 0 contains NaN or inf \(a missing value\) in column 'job'"):
        lumos.explain(model, row, method="occlusion", background=data.head(5))
    with pytest.raises(InputError, match=r"missing value in 'job'"):
        lumos.counterfactuals(model, row, data=data)
    background = data.head(5).copy()
    background.loc[2, "job"] = None
    with pytest.raises(InputError, match=r"^occlusion: background must be None or rows.*"
                                         r"DataFrame of shape \(5, 2\): has missing values"):
        lumos.explain(model, data.head(1), method="occlusion", background=background)


# ----- labels in attacks and slices -----------------------------------------------------------------------------
def test_attacks_take_label_names_and_refuse_out_of_range_labels():
    model = lumos.wrap(words, labels=["negative", "positive"])
    vocab = robustness.WordVocabulary(["good", "fine", "bad", "poor"], np.eye(4) + 0.5)
    by_name = robustness.attack(model, TEXTS, "textfooler", labels=["positive", "negative", "positive"],
                                vocabulary=vocab, budget=20)
    by_index = robustness.attack(model, TEXTS, "textfooler", labels=[1, 0, 1], vocabulary=vocab, budget=20)
    assert [e.as_dict() for e in by_name.examples] == [e.as_dict() for e in by_index.examples]
    with pytest.raises(InputError, match=r"label 2 is out of range for a model with 2 classes"):
        robustness.attack(model, TEXTS, "deepwordbug", labels=[1, 0, 2])
    with pytest.raises(InputError, match=r"label 'neutral' is not a label of the model \(labels: negative, positive\)"):
        robustness.attack(model, TEXTS, "deepwordbug", labels=["neutral", "negative", "positive"])
    with pytest.raises(InputError, match=r"label 0.5 at position 0 is not a class index"):
        robustness.attack(model, TEXTS, "deepwordbug", labels=[0.5, 0, 1])
    with pytest.raises(InputError, match=r"labels must be a list"):
        robustness.attack(model, TEXTS, "deepwordbug", labels="positive")


def test_image_attacks_take_label_names_and_refuse_images_outside_the_bounds():
    x = np.random.default_rng(0).random((2, 3, 8, 8)).astype(np.float32)
    model = lumos.wrap(make_cnn(), labels=["cat", "dog", "fox"])
    a = robustness.image_attack(model, x, ["dog", "fox"], epsilons=[0.0], explain_method=None)
    b = robustness.image_attack(model, x, [1, 2], epsilons=[0.0], explain_method=None)
    assert a.to_frame().astype(str).equals(b.to_frame().astype(str)) and a.clean_accuracy == b.clean_accuracy
    with pytest.raises(InputError, match=r"label 3 is out of range"):
        robustness.image_attack(model, x, [1, 3], epsilons=[0.0], explain_method=None)
    with pytest.raises(InputError, match=r"values span \[0, 255\], outside bounds=\(0, 1\)"):
        robustness.image_attack(model, np.floor(x * 255) * (255 / max(np.floor(x * 255).max(), 1)), [1, 2],
                                epsilons=[0.0], explain_method=None)


def test_slices_take_label_names_refuse_out_of_range_and_take_open_ranges():
    texts = ["not good", "good film", "a very long and not very good film indeed", "bad", "not bad at all"]
    model = lumos.wrap(lambda ts: np.array([[0.2, 0.8] if "good" in t else [0.7, 0.3] for t in ts]),
                       labels=["neg", "pos"])
    by_name = robustness.slices(model, texts, ["neg", "pos", "neg", "neg", "pos"], discover=False)
    by_index = robustness.slices(model, texts, [0, 1, 0, 0, 1], discover=False)
    assert by_name.to_frame().astype(str).equals(by_index.to_frame().astype(str))
    with pytest.raises(InputError, match=r"slices: label 5 is out of range"):
        robustness.slices(model, texts, [0, 1, 0, 0, 5], discover=False)
    short = robustness.slices(model, texts, [0, 1, 0, 0, 1], rules=[robustness.length(None, 2)], discover=False)
    assert short.slices[0].size == 3 and short.slices[0].name == "up to 2 words"
    open_both = robustness.slices(model, texts, [0, 1, 0, 0, 1], rules=[robustness.length(None, None)],
                                  discover=False)
    assert open_both.slices[0].size == 5
    for bad, match in (((5, 2), "lo must not exceed hi"), ((-1, 3), "lo must be"), ((1.5, 3), "lo must be"),
                       (("a", None), "lo must be")):
        with pytest.raises(InputError, match=match):
            robustness.length(*bad)
    with pytest.raises(InputError, match="hi must be"):
        robustness.feature_range("x", 0, float("nan"))
    with pytest.raises(InputError, match="word must be"):
        robustness.contains("")


# ----- generators ---------------------------------------------------------------------------------------------
class Short:
    """Answers one prompt fewer than it is given."""

    name, context_length = "short", None

    def count_tokens(self, messages):
        return sum(len(m["content"].split()) for m in messages)

    def generate(self, conversations, max_new_tokens=60, temperature=0.0, seed=0):
        return [Completion("It is positive because of good.") for _ in conversations][:-1]


def test_a_generator_answering_too_few_prompts_is_a_model_error_not_fewer_explanations():
    with pytest.raises(ModelError, match=r"returned 2 answers for 3 prompts"):
        nle.explain(lumos.wrap(words, labels=["neg", "pos"]), TEXTS, generator=Short())
    expl = nle.from_texts(lumos.wrap(words, labels=["neg", "pos"]), TEXTS, ["good", "bad", "good"])
    with pytest.raises(ModelError, match=r"returned 5 answers for 6 prompts"):
        lumos.evaluate(lumos.wrap(words, labels=["neg", "pos"]), TEXTS, expl,
                       metrics=[("simulatability", {"simulator": Short()})])

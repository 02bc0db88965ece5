"""Bad input gets one clear lumos error that says what was received and how to fix it."""

from __future__ import annotations

import numpy as np
import pytest

import lumos
from lumos import InputError, ModelError, UnsupportedError
from conftest import make_cnn, make_mlp


def test_empty_or_whitespace_text(tfidf_pipeline):
    with pytest.raises(InputError, match=r"text input 1 is empty or whitespace only"):
        lumos.explain(tfidf_pipeline, ["fine", "   "], method="occlusion")
    with pytest.raises(InputError, match="list of strings"):
        lumos.explain(tfidf_pipeline, ["fine", 3], method="occlusion")


def test_text_longer_than_the_model_is_truncated_with_a_warning(tiny_bert, tokenizer):
    long_text = " ".join(["wonderful"] * 60)  # 62 tokens with [CLS]/[SEP]; the model takes 48 positions
    e = lumos.explain((tiny_bert, tokenizer), [long_text, "short"], method="occlusion")
    assert "truncated" in e[0].extras and "last 14 words" in e[0].extras["truncated"]
    assert len(e[0].features) == 46 and len(e[0].attributions) == 46
    assert "truncated" not in e[1].extras
    e = lumos.explain((tiny_bert, tokenizer), [long_text], method="integrated_gradients", steps=4)
    assert len(e[0].attributions) == 46


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_in_images_and_tables(bad):
    x = np.zeros((2, 3, 8, 8), dtype=np.float32)
    x[1, 0, 2, 2] = bad
    with pytest.raises(InputError, match="image 1 contains NaN or inf"):
        lumos.explain(make_cnn(), x, method="saliency")
    t = np.zeros((3, 6))
    t[2, 1] = bad
    with pytest.raises(InputError, match="row 2 contains NaN or inf"):
        lumos.explain(make_mlp(), t, method="saliency")


def test_wrong_shape_or_channel_count():
    with pytest.raises(InputError, match=r"takes 3 channels; the images have 1"):
        lumos.explain(make_cnn(), np.zeros((2, 1, 8, 8)), method="saliency")
    with pytest.raises(InputError, match=r"one image of shape \(3, 8, 8\).*x\[None\]"):
        lumos.explain(make_cnn(), np.zeros((3, 8, 8)), method="saliency")
    with pytest.raises(InputError, match="first layer takes 6 features; got 4"):
        lumos.explain(make_mlp(), np.zeros((2, 4)), method="saliency")


def test_text_model_rejects_images(tfidf_pipeline):
    with pytest.raises(InputError, match=r"takes text inputs; got image inputs"):
        lumos.explain(tfidf_pipeline, np.zeros((1, 3, 8, 8)), method="occlusion")


def test_target_out_of_range_names_the_labels(tiny_bert, tokenizer):
    with pytest.raises(InputError, match=r"target 7 is out of range for a model with 2 classes "
                                         r"\(labels: negative, positive\)"):
        lumos.explain((tiny_bert, tokenizer), ["a film"], method="occlusion", target=7)
    with pytest.raises(InputError, match="got 2 targets for 1 inputs"):
        lumos.explain((tiny_bert, tokenizer), ["a film"], method="occlusion", target=[0, 1])
    e = lumos.explain((tiny_bert, tokenizer), ["a film"], method="occlusion", target="positive")
    assert e[0].target == 1 and e[0].label == "positive"


def test_unknown_method_suggests_the_closest():
    with pytest.raises(InputError, match=r"unknown explainer 'integrated_gradient'\. Did you mean "
                                         r"'integrated_gradients'\?"):
        lumos.explain(make_mlp(), np.zeros((1, 6)), method="integrated_gradient")


def test_unknown_parameter_suggests_the_closest():
    with pytest.raises(InputError, match=r"no parameter 'step'\. Did you mean 'steps'\?"):
        lumos.explain(make_mlp(), np.zeros((1, 6)), method="integrated_gradients", step=10)


def test_gradient_method_on_a_black_box_says_which_methods_work(tfidf_pipeline):
    with pytest.raises(UnsupportedError, match=r"integrated_gradients needs gradients.*Methods that work on it: "
                                               r"exact_shapley, kernel_shap, leverage_shap, lime, occlusion, "
                                               r"permutation_shap, random, regression_shap, stratified_shap"):
        lumos.explain(tfidf_pipeline, ["a film"], method="integrated_gradients")


def test_method_for_another_modality():
    with pytest.raises(UnsupportedError, match=r"gradcam does not apply to tabular inputs"):
        lumos.explain(make_mlp(), np.zeros((1, 6)), method="gradcam")


def test_callable_returning_logits_is_caught():
    with pytest.raises(ModelError, match="must return probabilities.*output='logits'"):
        lumos.explain(lambda x: x @ np.ones((6, 2)) * 3, np.ones((1, 6)), method="occlusion")
    e = lumos.explain(lumos.wrap(lambda x: x @ np.ones((6, 2)), output="logits"), np.ones((1, 6)),
                      method="occlusion")
    np.testing.assert_allclose(e[0].probs, [0.5, 0.5])


def test_exact_shapley_refuses_too_many_features():
    with pytest.raises(InputError, match=r"F=20 > max_features=16\. Use kernel_shap"):
        lumos.explain(lambda x: np.full((len(x), 2), 0.5), np.zeros((1, 20)), method="exact_shapley")


def test_unwrappable_object():
    with pytest.raises(ModelError, match="cannot wrap int"):
        lumos.wrap(3)


def test_model_specific_methods_name_the_alternatives(tfidf_pipeline):
    with pytest.raises(UnsupportedError, match=r"attention cannot run on SklearnModel\. Methods that work on it: "
                                               r"exact_shapley, kernel_shap, leverage_shap, lime, occlusion, "
                                               r"permutation_shap, random, regression_shap, stratified_shap"):
        lumos.explain(tfidf_pipeline, ["a film"], method="attention")
    with pytest.raises(UnsupportedError, match=r"gradcam needs gradients.*CallableModel"):
        lumos.explain(lambda x: np.full((len(x), 2), 0.5), np.zeros((1, 3, 8, 8)), method="gradcam")

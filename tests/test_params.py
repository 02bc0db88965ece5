"""Hyper-parameters are checked from their declared constraints, in the explainer, metric and attack bases:
a bad value is an InputError that names the parameter, whatever the method."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import lumos
from lumos import InputError, registry, robustness
from lumos.params import (AnyOf, Array, Choice, Float, Int, IntRange, Names, Numbers, Optional, Ordered, Table, check,
                          declared, param)
from conftest import make_cnn, make_mlp

TABLE = np.random.default_rng(0).normal(size=(2, 6))
IMAGES = np.random.default_rng(0).random((2, 3, 8, 8)).astype(np.float32)


def words(texts):
    return np.array([[0.3, 0.7] if "good" in t else [0.6, 0.4] for t in texts])


@pytest.mark.parametrize("method,params,name", [
    ("integrated_gradients", {"baseline": np.nan}, "baseline"),
    ("occlusion", {"baseline": [0, np.nan, 0, 0, 0, 0]}, "baseline"),
    ("smoothgrad", {"noise": np.nan}, "noise"),
    ("smoothgrad", {"noise": -0.1}, "noise"),
    ("lime", {"n_samples": "100"}, "n_samples"),
    ("lime", {"n_samples": 1}, "n_samples"),
    ("lime", {"kernel_width": 0}, "kernel_width"),
    ("lime", {"n_segments": 0}, "n_segments"),
    ("kernel_shap", {"n_samples": 2.5}, "n_samples"),
    ("kernel_shap", {"n_samples": True}, "n_samples"),
    ("integrated_gradients", {"steps": 0}, "steps"),
    ("integrated_gradients", {"rule": "simpson"}, "rule"),
    ("integrated_gradients", {"rule": "riemann_trapezoid", "steps": 1}, "steps"),
    ("gradient_shap", {"background": np.zeros((0, 6))}, "background"),
    ("occlusion", {"window": 0}, "window"),
    ("occlusion", {"stride": (2, -1)}, "stride"),
    ("saliency", {"absolute": "yes"}, "absolute"),
    ("saliency", {"output": "logits"}, "output"),
])
def test_bad_method_parameters_name_the_parameter(method, params, name):
    with pytest.raises(InputError, match=rf"^{method}: {name} must be "):
        lumos.explain(make_mlp(), TABLE, method=method, **params)


@pytest.mark.parametrize("kw,name", [({"seed": None}, "seed"), ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"),
                                     ({"batch_size": "big"}, "batch_size"), ({"batch_size": 0}, "batch_size"),
                                     ({"granularity": "char"}, "granularity")])
def test_bad_call_arguments_name_the_argument(kw, name):
    with pytest.raises(InputError, match=rf"^explain: {name} must be "):
        lumos.explain(make_mlp(), TABLE, method="saliency", **kw)
    with pytest.raises(InputError, match=r"batch_size must be"):
        lumos.wrap(make_mlp(), batch_size="big")


@pytest.mark.parametrize("metric,params,name", [
    ("infidelity", {"n_samples": 0}, "n_samples"),
    ("infidelity", {"noise": float("inf")}, "noise"),
    ("mprt", {"max_layers": 0}, "max_layers"),
    ("mprt", {"max_layers": -2}, "max_layers"),
    ("aopc_comprehensiveness", {"bins": []}, "bins"),
    ("aopc_comprehensiveness", {"bins": [0.1, 1.5]}, "bins"),
    ("aopc_sufficiency", {"bins": "imdb"}, "bins"),
    ("comprehensiveness", {"value": 5}, "value"),
    ("comprehensiveness", {"value": float("nan")}, "value"),
    ("token_f1", {"rule": "top_k", "value": 2.5}, "value"),
    ("iou_f1", {"threshold": 0}, "threshold"),
    ("max_sensitivity", {"radius": 0}, "radius"),
    ("citation_agreement", {"method": "nonsense"}, "method"),
])
def test_bad_metric_parameters_name_the_parameter(metric, params, name):
    e = lumos.explain(make_mlp(), TABLE, method="saliency")
    with pytest.raises(InputError, match=rf"^{metric}: {name} must be "):
        lumos.evaluate(make_mlp(), TABLE, e, metrics=[(metric, params)])


@pytest.mark.parametrize("params,name", [({"levels": ()}, "levels"), ({"levels": (0.5, 1.0)}, "levels"),
                                         ({"steps": 0}, "steps"), ({"baseline": np.nan}, "baseline")])
def test_bad_image_metric_parameters_name_the_parameter(params, name):
    metric = "road" if "levels" in params else "deletion_auc"
    e = lumos.explain(make_cnn(), IMAGES, method="saliency")
    with pytest.raises(InputError, match=rf"^{metric}: {name} must be "):
        lumos.evaluate(make_cnn(), IMAGES, e, metrics=[(metric, params)])


@pytest.mark.parametrize("kw,name", [({"epsilons": [np.nan]}, "epsilons"), ({"epsilons": []}, "epsilons"),
                                     ({"epsilons": [-0.1]}, "epsilons"), ({"bounds": (1, 0)}, "bounds"),
                                     ({"bounds": (0, np.inf)}, "bounds"), ({"steps": 0}, "steps"),
                                     ({"seed": None}, "seed"), ({"norm": "l1"}, "norm")])
def test_bad_image_attack_arguments_name_the_argument(kw, name):
    with pytest.raises(InputError, match=rf"^image_attack: {name} must be "):
        robustness.image_attack(make_cnn(), IMAGES, [0, 1], **kw)


@pytest.mark.parametrize("kw,name", [({"budget": "big"}, "budget"), ({"max_candidates": 0}, "max_candidates"),
                                     ({"min_similarity": np.nan}, "min_similarity"),
                                     ({"importance": "magic"}, "importance"), ({"chunk_size": 0}, "chunk_size")])
def test_bad_attack_parameters_name_the_parameter(kw, name):
    with pytest.raises(InputError, match=rf"^textfooler: {name} must be "):
        robustness.attack(words, ["a good film"], "textfooler", **kw)


def test_an_empty_or_mistyped_metric_list_is_refused():
    e = lumos.explain(words, ["a good film"], method="occlusion")
    for bad in ([], 5, [5], [("sparseness", 3)]):
        with pytest.raises(InputError, match="evaluate: metric"):
            lumos.evaluate(words, ["a good film"], e, metrics=bad)


def test_every_registered_hyper_parameter_declares_a_constraint_and_its_default_passes():
    """A plug-in registered without declared constraints fails here, so every one is validated."""
    kinds = {kind: registry.names(kind) for kind in ("explainer", "metric", "attack", "influence", "counterfactual",
                                                     "label_model", "repair")}
    for kind, names in kinds.items():
        for name in names:
            cls = registry.get(name, kind)
            for field, constraint in declared(cls).items():
                assert constraint is not None, f"{kind} {name}: {field} has no declared constraint"
            cls()  # every default is valid


FRAME = pd.DataFrame({"text": ["a good film", "a dull plot"] * 10, "label": [1, 0] * 10})


@pytest.mark.parametrize("discoverer,kw,name", [
    ("statistics", {"min_count": "5"}, "min_count"), ("statistics", {"min_count": 0}, "min_count"),
    ("statistics", {"alpha": np.nan}, "alpha"), ("statistics", {"alpha": 1.5}, "alpha"),
    ("statistics", {"correction": "sidak"}, "correction"), ("statistics", {"ngram_range": (2, 1)}, "ngram_range"),
    ("statistics", {"ngram_range": (0, 2)}, "ngram_range"), ("statistics", {"ngram_range": 2}, "ngram_range"),
    ("statistics", {"n_bins": 0}, "n_bins"), ("statistics", {"label_column": ""}, "label_column"),
    ("statistics", {"text_column": 3}, "text_column"), ("statistics", {"class_names": ["a", "a"]}, "class_names"),
    ("statistics", {"class_names": "ab"}, "class_names"), ("partial_input", {"top": -1}, "top"),
    ("partial_input", {"seed": None}, "seed"), ("partial_input", {"seed": -1}, "seed"),
    ("data_map", {"quantile": 0}, "quantile"), ("data_map", {"quantile": np.inf}, "quantile"),
    ("attributions", {"rank_by": "size"}, "rank_by"), ("attributions", {"n": 0}, "n"),
    ("attributions", {"method": "shapley"}, "method"), ("influence", {"method": "trak"}, "method"),
    ("influence", {"n_train": -5}, "n_train"), ("influence", {"n_test": 2.5}, "n_test"),
    ("worst_slices", {"max_rules": 0}, "max_rules"), ("worst_slices", {"discover": "yes"}, "discover"),
    ("worst_slices", {"probs": np.array([[np.nan, 1.0]])}, "probs")])
def test_bad_discoverer_arguments_name_the_argument_before_any_work(discoverer, kw, name):
    fn = registry.get(discoverer, "discoverer")
    calls = []

    def model(texts):  # never called: the rules are checked before the discoverer runs
        calls.append(texts)
        return words(texts)

    args = (FRAME,) if discoverer in ("statistics", "partial_input") else (model, FRAME)
    with pytest.raises(InputError, match=rf"^{discoverer}: {name} must be "):
        fn(*args, **kw)
    assert calls == []


def test_worst_slices_refuses_probs_of_the_wrong_shape():
    with pytest.raises(InputError, match=r"probs must be \(N, K\) for the 20 rows"):
        registry.get("worst_slices", "discoverer")(words, FRAME, probs=np.full((3, 2), 0.5))


def test_every_discoverer_declares_a_rule_for_each_keyword_and_its_defaults_pass():
    for name in registry.names("discoverer"):
        fn = registry.get(name, "discoverer")
        info = fn.info()
        assert set(fn.param_rules) == set(info["params"]), name
        for field, default in info["params"].items():
            check(name, field, default, fn.param_rules[field])


def test_a_new_plugin_gets_validation_by_declaring_constraints():
    from lumos.explainers.base import Explainer

    @dataclasses.dataclass(frozen=True)
    class Toy(Explainer):
        name = "toy"
        width: float = param(1.0, Float(low=0, low_open=True))
        passes: int = 3  # inferred from the annotation

    assert Toy(width=2.0).width == 2.0
    with pytest.raises(InputError, match=r"^toy: width must be a finite number > 0; got nan \(float\): not finite"):
        Toy(width=float("nan"))
    with pytest.raises(InputError, match=r"^toy: passes must be an int; got '3' \(str\)"):
        Toy(passes="3")


def test_constraints_on_their_own():
    cases = [(Int(low=1), [1, np.int64(5)], [0, 1.0, True, "1", None]),
             (Float(low=0, high=1, high_open=True), [0, 0.5, np.float32(0.9)], [1, -0.1, np.nan, np.inf, "0.5"]),
             (Numbers(low=0), [[0.1], (1, 2), np.array([3.0])], [[], [np.nan], [-1], "12", [[1]]]),
             (Ordered(), [(0, 1), [-1.5, 2]], [(1, 0), (0, 0), (0,), (0, np.nan)]),
             (Array(), [[1, 2], np.ones((2, 2))], [[], [np.nan], "abc", np.array(["a"])]),
             (Table(), [np.ones((2, 3))], [np.ones(3), np.zeros((0, 3)), np.array([[np.nan]])]),
             (Optional(Choice("a", "b")), [None, "a"], ["c", 1]),
             (IntRange(low=1), [(1, 1), [1, 3]], [(2, 1), (0, 1), (1.0, 2), 1, (1, 2, 3)]),
             (Names(), [["a"], ("a", "b")], [[], ["a", "a"], "ab", [""], [1]]),
             (AnyOf(Choice("eraser"), Numbers(low=0, high=1)), ["eraser", [0.5]], ["x", [2]])]
    for constraint, good, bad in cases:
        for v in good:
            check("t", "p", v, constraint)
        for v in bad:
            with pytest.raises(InputError, match=r"^t: p must be "):
                check("t", "p", v, constraint)


def test_methods_and_metrics_list_their_constraints():
    assert lumos.methods()["lime"]["constraints"]["n_samples"] == "an int >= 2"
    assert lumos.metrics()["road"]["constraints"]["levels"].startswith("a non-empty list of finite numbers in (0, 1)")


@pytest.mark.parametrize("kw,name", [({"seed": None}, "seed"), ({"seed": -1}, "seed"), ({"name": ""}, "name"),
                                     ({"fractions": (np.nan, 0.5, 0.5)}, "fractions"), ({"size": 0}, "size"),
                                     ({"drop": "label"}, "drop"), ({"epochs": -1}, "epochs"),
                                     ({"lr": float("nan")}, "lr"), ({"split_column": "s"}, "split")])
def test_bad_train_arguments_and_settings_name_them_before_training(kw, name, tmp_path):
    table = pd.DataFrame({"a": np.arange(30.0), "label": np.arange(30) % 2})
    with pytest.raises(InputError, match=name):
        lumos.train(table, base="mlp", progress=False, cache_dir=tmp_path, **kw)
    assert not any(tmp_path.iterdir())  # nothing trained, nothing cached


def test_discoverers_refuse_one_class_and_missing_texts_and_short_dynamics():
    from lumos import artifacts

    with pytest.raises(InputError, match="holds one class"):
        artifacts.statistics(FRAME.assign(label=0), min_count=2)
    with pytest.raises(InputError, match=r"must hold a string in every row; rows \[0\]"):
        artifacts.statistics(FRAME.assign(text=[None] + FRAME.text.tolist()[1:]), min_count=2)
    with pytest.raises(InputError, match="training dynamics must be"):
        artifacts.data_map(np.full((3, 5, 2), 0.5), FRAME)


def test_an_unreachable_ray_address_fails_fast():
    from lumos.bench.ray_backend import _check_reachable

    with pytest.raises(InputError, match="no Ray cluster answers at 127.0.0.1:1"):
        _check_reachable("127.0.0.1:1")

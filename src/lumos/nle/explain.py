"""``lumos.nle.explain``: ask a generative model to explain a classifier's predictions, and turn each answer
into a lumos ``Explanation`` whose attributions mark the input words it cites (1 cited, 0 not).

The explanations then go through ``lumos.evaluate`` like any other: comprehensiveness and sufficiency remove
the cited words, and the NLE metrics (``nle_counterfactual``, ``citation_agreement``, ``simulatability``) sit
beside them.
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

from ..api import explain as explain_attributions
from ..api import resolve_targets
from ..deprecation import renamed_keywords
from ..errors import InputError
from ..explanation import Explanation, Explanations
from ..models import Model, wrap
from .citations import cite
from .generator import Completion, Generator
from .labels import find_label
from .prompts import STYLES, Prompt, fit, join_labels, load_template, needs


@renamed_keywords(classifier="model", style="method")
def explain(model: Any, inputs: Sequence[str], generator: Generator | None = None, method: str = "free", *,
            target: Any = None, attribution: str | Explanations = "occlusion", k: int = 5,
            template: str | None = None, max_new_tokens: int = 60, temperature: float = 0.0,
            seed: int = 0) -> Explanations:
    """One natural-language explanation per input, as ``Explanations`` (method ``"nle:<method>"``).

    model: anything ``lumos.wrap`` takes (text). generator: a ``LocalGenerator`` (default: SmolLM2) or an
    ``EndpointGenerator``. method: "free" (explain the prediction), "attribution" (explain given the top ``k``
    words of ``attribution``, a method name or Explanations of these inputs) or "self_rationalise" (the
    generator gives its own label and a rationale). template: a shipped name, a file path, or template text
    (default: the method's file). Decoding is greedy unless ``temperature`` > 0.

    Each ``extras`` holds "text", "prompt", "generator", "cited" (the words), "flags" ("empty",
    "no_citation", "prompt_truncated") and, for self_rationalise, "generator_label".
    """
    if method not in STYLES:
        raise InputError(f"unknown natural-language method {method!r}; use one of {', '.join(STYLES)}.")
    if k < 1 or max_new_tokens < 1:
        raise InputError(f"k and max_new_tokens must be >= 1; got k={k}, max_new_tokens={max_new_tokens}.")
    model, batch, probs, targets = _predict(model, inputs, target)
    text_template = load_template(template or method)
    words = _top_words(model, inputs, targets, attribution, k, seed) if needs(text_template, "words") else None
    if generator is None:
        from .local import LocalGenerator

        generator = LocalGenerator()
    labels = list(model.labels or [])
    prompts = [fit(text_template, doc.text, {"label": labels[t], "labels": join_labels(labels),
                                             "words": ", ".join(words[i]) if words else "", "explanation": ""},
                   generator, max_new_tokens)
               for i, (doc, t) in enumerate(zip(batch.docs, targets))]
    cut = [i for i, p in enumerate(prompts) if p.truncated]
    if cut:
        warnings.warn(f"inputs {cut} are longer than the generator's context of {generator.context_length} tokens; "
                      f"only their first words went into the prompt (extras['flags'] has 'prompt_truncated').",
                      stacklevel=2)
    completions = generator.generate([p.messages for p in prompts], max_new_tokens, temperature, seed)
    params = {"method": method, "generator": generator.name, "k": k, "template": str(template or method),
              "max_new_tokens": max_new_tokens, "temperature": temperature, "seed": int(seed), "granularity": "word"}
    if words is not None:
        params["attribution"] = attribution if isinstance(attribution, str) else attribution.method
    return _pack(model, batch, probs, targets, prompts, completions, params, method, words)


def _predict(model: Any, inputs: Sequence[str], target: Any) -> tuple[Any, Any, np.ndarray, np.ndarray]:
    """(lumos model, word-level batch, (B, K) probabilities, (B,) targets) of the classifier on ``inputs``."""
    model = wrap(model)
    batch = model.prepare(inputs, "word")
    with model.session():
        probs = model.evaluate(batch.rows())
    return model, batch, probs, resolve_targets(target, probs, model.labels)


@renamed_keywords(classifier="model")
def from_texts(model: Any, inputs: Sequence[str], texts: Sequence[str], target: Any = None,
               method: str = "nle:given") -> Explanations:
    """Explanations from texts written elsewhere (another tool, a person): citations matched, no generation."""
    if len(texts) != len(inputs):
        raise InputError(f"got {len(texts)} explanation texts for {len(inputs)} inputs; pass one per input.")
    model, batch, probs, targets = _predict(model, inputs, target)
    prompts = [Prompt([{"role": "user", "content": ""}], len(d.text.split()), len(d.text.split())) for d in batch.docs]
    params = {"method": method.split(":", 1)[-1], "generator": None, "seed": 0, "granularity": "word"}
    return _pack(model, batch, probs, targets, prompts, [Completion(str(t)) for t in texts], params, None, None,
                 method)


def _top_words(model: Model, inputs: Sequence[str], targets: np.ndarray, attribution: str | Explanations,
               k: int, seed: int) -> list[list[str]]:
    expl = attribution if isinstance(attribution, Explanations) else \
        explain_attributions(model, list(inputs), method=attribution, target=targets, seed=seed)
    if len(expl) != len(inputs):
        raise InputError(f"attribution has {len(expl)} explanations for {len(inputs)} inputs; explain these inputs.")
    return [[str(w) for w, _ in e.top(k)] for e in expl]


def _pack(model: Model, batch, probs: np.ndarray, targets: np.ndarray, prompts: list[Prompt],
          completions: list[Completion], params: dict, style: str | None, words: list[list[str]] | None,
          method: str | None = None) -> Explanations:
    labels = list(model.labels or [])
    items, empty, uncited = [], [], []
    for i, (doc, prompt, completion) in enumerate(zip(batch.docs, prompts, completions)):
        text = completion.text.strip()
        cited = cite(doc.features, text)
        flags = [f for f, on in (("empty", not text), ("no_citation", bool(text) and not cited.any()),
                                 ("prompt_truncated", prompt.truncated)) if on]
        if "empty" in flags:
            empty.append(i)
        elif "no_citation" in flags:
            uncited.append(i)
        extras: dict[str, Any] = {"text": text, "prompt": prompt.text, "generator": params.get("generator"),
                                  "cited": [w for w, c in zip(doc.features, cited) if c], "flags": flags,
                                  "prompt_tokens": completion.prompt_tokens,
                                  "completion_tokens": completion.completion_tokens}
        if words is not None:
            extras["attribution_words"] = words[i]
        if style == "self_rationalise":
            found = find_label(text, labels)
            extras["generator_label"] = labels[found] if found is not None else None
        if doc.truncated_words:
            extras["truncated"] = (f"input longer than the classifier's maximum of {getattr(model, 'max_length', '?')} "
                                   f"tokens: the last {doc.truncated_words} words were cut and cannot be cited")
        t = int(targets[i])
        items.append(Explanation(cited.astype(np.float32), list(doc.features), t, probs[i].astype(np.float32),
                                 method or f"nle:{style}", params, extras, labels[t] if labels else None))
    if empty:
        warnings.warn(f"the generator returned an empty explanation for inputs {empty}; they cite nothing "
                      "(flag 'empty').", stacklevel=3)
    if uncited:
        warnings.warn(f"the explanations of inputs {uncited} cite no input word (flag 'no_citation'); "
                      "nle_counterfactual and citation_agreement score them 0.", stacklevel=3)
    return Explanations(items, explainer=None, granularity="word", seed=int(params.get("seed", 0)))

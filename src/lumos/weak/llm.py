"""A prompted generative LM as a labeling function, through ``lumos.nle``'s generators, batched.

Two ways to read the answer: ``scoring="logprob"`` (local generators) compares the next-token log-probabilities
of the label words after the prompt and an answer prefix, one forward pass per batch, calibrated against a
content-free input (Zhao et al., "Calibrate before use", 2021) or against in-domain texts;
``scoring="generate"`` (any generator, endpoints included) generates a short answer and votes the label it
names first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import InputError, UnsupportedError
from .lf import LabelingFunction, texts_of
from .matrix import ABSTAIN

LABEL_PROMPT = Path(__file__).parent / "prompts" / "label.txt"
SCORINGS = ("logprob", "generate")
CONTENT_FREE = "N/A"


def llm_lf(labels: Sequence[str], generator: Any = None, *, scoring: str = "logprob", margin: float = 0.5,
           calibration: Sequence[str] | None = None, template: str | Path | None = None,
           answer_prefix: str = "Sentiment:", name: str = "llm", column: str = "text", max_new_tokens: int = 4,
           seed: int = 0) -> LabelingFunction:
    """Asks a generative LM which of ``labels`` fits each text.

    generator: a ``lumos.nle`` generator (default: the local SmolLM2, loaded on first use) or
    ``nle.EndpointGenerator(url)`` (``scoring="generate"`` only). template: a prompt with ``{text}`` and
    ``{labels}`` (default ``weak/prompts/label.txt``); long texts are cut to fit the context as in lumos.nle.
    logprob: the log-probability of each label's first token after the prompt and ``answer_prefix``, minus
    its mean over the ``calibration`` texts (default: the content-free "N/A"; a few dozen unlabeled texts of
    the task calibrate better when the classes are roughly balanced among them); votes the best label when it
    leads by ``margin`` nats, else abstains. generate: greedy answers of ``max_new_tokens`` tokens; abstains
    when no label is named. Batched: one forward pass (or one ``generate`` call) per batch.
    """
    from ..nle.prompts import load_template

    labels = [str(l) for l in labels]
    if scoring not in SCORINGS:
        raise InputError(f"scoring must be one of {', '.join(SCORINGS)}; got {scoring!r}.")
    if margin < 0:
        raise InputError(f"margin must be >= 0; got {margin}.")
    if calibration is not None and not len(calibration):
        raise InputError("calibration needs at least one text (or None for the content-free 'N/A').")
    if scoring == "logprob" and generator is not None:
        _check_local(generator)
    text_template = load_template(template or LABEL_PROMPT)
    state: dict[str, Any] = {"generator": generator, "baseline": None}

    def votes(batch: Any) -> list[Any]:
        if state["generator"] is None:
            from ..nle.local import LocalGenerator

            state["generator"] = LocalGenerator()
        gen = state["generator"]
        texts = texts_of(batch, column)
        if scoring == "generate":
            return _generated_votes(gen, text_template, texts, labels, max_new_tokens, seed)
        if state["baseline"] is None:
            reference = list(calibration) if calibration is not None else [CONTENT_FREE]
            state["baseline"] = label_logprobs(gen, text_template, reference, labels, answer_prefix).mean(0)
        return calibrated_votes(label_logprobs(gen, text_template, texts, labels, answer_prefix), state["baseline"],
                                labels, margin)

    return LabelingFunction(name, votes, True, "llm", {"labels": labels, "scoring": scoring, "margin": margin,
                                                        "template": str(template or "label"),
                                                        "answer_prefix": answer_prefix,
                                                        "calibration": "content-free" if calibration is None
                                                        else f"{len(calibration)} texts"})


def calibrated_votes(scores: np.ndarray, baseline: np.ndarray, labels: Sequence[str], margin: float) -> list[Any]:
    """(B, K) label log-probabilities minus the (K,) ``baseline`` -> the label leading by at least ``margin``
    nats, else ABSTAIN."""
    calibrated = scores - baseline
    ranked = np.sort(calibrated, axis=1)
    return [labels[k] if ranked[i, -1] - ranked[i, -2] >= margin else ABSTAIN
            for i, k in enumerate(calibrated.argmax(1))]


def _prompts(gen: Any, template: str, texts: list[str], labels: list[str], max_new_tokens: int) -> list:
    from ..nle.prompts import fit, join_labels

    fields = {"labels": join_labels(labels), "label": "", "words": "", "explanation": ""}
    return [fit(template, t, fields, gen, max_new_tokens).messages for t in texts]


def _generated_votes(gen: Any, template: str, texts: list[str], labels: list[str], max_new_tokens: int,
                     seed: int) -> list[Any]:
    from ..nle.labels import find_label

    answers = gen.generate(_prompts(gen, template, texts, labels, max_new_tokens), max_new_tokens, 0.0, seed)
    found = [find_label(a.text, labels) for a in answers]
    return [labels[k] if k is not None else ABSTAIN for k in found]


def label_logprobs(gen: Any, template: str, texts: list[str], labels: list[str], answer_prefix: str) -> np.ndarray:
    """(B, K) log-probability of each label's first token (after a space) following the chat prompt for each
    text and ``answer_prefix``; ``gen`` must be a local generator (model, tokenizer, render, batch_size)."""
    import torch

    _check_local(gen)
    tok = gen.tokenizer
    ids = [tok(" " + l, add_special_tokens=False)["input_ids"][0] for l in labels]
    if len(set(ids)) < len(ids):
        raise InputError(f"labels {labels} share their first token; scoring='logprob' cannot tell them apart. "
                         "Use scoring='generate' or labels that start differently.")
    rendered = [gen.render(m) + answer_prefix for m in _prompts(gen, template, texts, labels, 1)]
    out = []
    with torch.no_grad():
        for lo in range(0, len(rendered), gen.batch_size):
            enc = tok(rendered[lo:lo + gen.batch_size], return_tensors="pt", padding=True, padding_side="left",
                      add_special_tokens=False)
            enc = {k: v.to(gen.model.device) for k, v in enc.items()}
            logits = gen.model(**enc, logits_to_keep=1).logits[:, -1].float()
            out.append(torch.log_softmax(logits, -1)[:, ids].cpu().numpy())
    return np.concatenate(out).astype(np.float64)


def _check_local(gen: Any) -> None:
    if not all(hasattr(gen, a) for a in ("model", "tokenizer", "render", "batch_size")):
        raise UnsupportedError(f"scoring='logprob' needs a local generator (lumos.nle.LocalGenerator); "
                               f"{type(gen).__name__} only generates text: use scoring='generate'.")

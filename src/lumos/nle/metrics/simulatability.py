"""Simulatability: does the explanation let a simulator predict the classifier's output better than the
input alone? (Doshi-Velez & Kim 2017; Hase & Bansal 2020.)"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import InputError
from ...registry import register
from ...metrics.base import Metric


@register("simulatability", kind="metric")
@dataclass(frozen=True)
class Simulatability(Metric):
    """Score: correct(with explanation) - correct(without), against the classifier's predicted class.

    ``simulator``: "rule" (predict the label the explanation names first; none named, or no explanation,
    counts as chance, 1/K) or a generator (``lumos.nle.LocalGenerator`` / ``EndpointGenerator``) asked with
    the ``simulate`` and ``simulate_baseline`` templates; an answer naming no label counts as chance.
    The explanation is an NLE's text, or for attribution methods "The words that mattered most: ..." (top
    ``k`` positive words). Note that an NLE prompted with the label (style "free") leaks it: the rule
    simulates it trivially; self_rationalise explanations do not. Details: the two accuracies per example."""

    family = "faithfulness"
    higher_is_better = True
    bounds = (-1.0, 1.0)
    modalities = ("text",)
    for_generated = True
    summary = "Gain in predicting the classifier's output from the explanation over the input alone."
    simulator: object = "rule"
    k: int = 5
    max_new_tokens: int = 8

    def compute(self, ctx):
        from ..labels import find_label
        from ..prompts import join_labels, load_template

        labels = list(ctx.model.labels or [])
        if not labels:
            raise InputError("simulatability needs the classifier's label names: wrap it with labels=[...].")
        texts = [_explanation_text(e, self.k) for e in ctx.explanations]
        predicted = np.array([int(np.argmax(e.probs)) for e in ctx.explanations])
        if isinstance(self.simulator, str):
            if self.simulator != "rule":
                raise InputError(f"simulator must be 'rule' or a generator; got {self.simulator!r}.")
            with_expl = [find_label(t, labels) for t in texts]
            without = [None] * len(texts)
        else:
            fields = {"labels": join_labels(labels), "label": "", "words": ""}
            inputs = [d.text for d in ctx.batch.docs]
            asks = [[{"role": "user", "content": load_template("simulate").format(**fields, text=x, explanation=t)}]
                    for x, t in zip(inputs, texts)]
            asks += [[{"role": "user", "content": load_template("simulate_baseline").format(**fields, text=x,
                                                                                          explanation="")}]
                     for x in inputs]
            answers = [find_label(c.text, labels) for c in self.simulator.generate(asks, self.max_new_tokens, 0.0,
                                                                                    ctx.seed)]
            with_expl, without = answers[:len(texts)], answers[len(texts):]
        acc_with, acc_without = _accuracy(with_expl, predicted, len(labels)), _accuracy(without, predicted, len(labels))
        return acc_with - acc_without, {"with_explanation": acc_with, "without_explanation": acc_without}


def _explanation_text(explanation, k: int) -> str:
    if "text" in explanation.extras:
        return str(explanation.extras["text"])
    words = [str(w) for w, s in explanation.top(k) if s > 0]
    return "The words that mattered most: " + ", ".join(words) + "." if words else ""


def _accuracy(guesses: list[int | None], predicted: np.ndarray, n_labels: int) -> np.ndarray:
    """1 right, 0 wrong, 1/K for no guess (chance)."""
    return np.array([1.0 / n_labels if g is None else float(g == p) for g, p in zip(guesses, predicted)])

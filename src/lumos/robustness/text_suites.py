"""CheckList-style behavioural tests for text classifiers: each test perturbs sentences and declares what the
model should do (keep its prediction, or move its confidence one way); the result is a failure rate per test
with the failing examples."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..models import Model, wrap
from ..results import Result
from . import perturbations as P

Kind = Literal["invariance", "directional"]


@dataclass(frozen=True)
class TextTest:
    """One behavioural test.

    ``kind="invariance"``: the predicted class must not change. ``kind="directional"``: the probability of the
    originally predicted class must move in ``direction`` (-1 down, +1 up): the test fails when the signed move
    ``direction * change`` is below ``-tolerance`` (a negative tolerance demands a move of at least that size).
    """

    name: str
    kind: Kind
    perturb: P.Perturbation
    expectation: str
    direction: int = 0
    tolerance: float = 0.0

    def fails(self, p_orig: np.ndarray, p_new: np.ndarray) -> np.ndarray:
        """(N, K) probabilities before and after -> (N,) bool failures."""
        pred = p_orig.argmax(1)
        if self.kind == "invariance":
            return p_new.argmax(1) != pred
        rows = np.arange(len(pred))
        delta = p_new[rows, pred] - p_orig[rows, pred]
        return self.direction * delta < -self.tolerance


def default_tests() -> list[TextTest]:
    """The standard suite: five invariance and two directional tests for sentiment-like tasks."""
    same = "prediction unchanged"
    return [
        TextTest("typos", "invariance", P.typo, same),
        TextTest("contractions", "invariance", P.contraction, same),
        TextTest("name swap", "invariance", P.swap_name, same),
        TextTest("location swap", "invariance", P.swap_location, same),
        TextTest("neutral sentence added", "invariance", P.add_neutral, same),
        TextTest("negation", "directional", P.negate, "confidence in the predicted class drops by at least 0.01",
                 -1, -0.01),
        TextTest("intensifier", "directional", P.intensify, "confidence in the predicted class does not drop by "
                 "more than 0.05", +1, 0.05),
    ]


@dataclass
class TextTestResult:
    """Outcome of one test over the sentences it applied to; ``examples``: the failures first, then passes."""

    name: str
    kind: Kind
    expectation: str
    n: int
    failures: int
    examples: list[dict] = field(default_factory=list)

    @property
    def failure_rate(self) -> float:
        return self.failures / self.n if self.n else float("nan")


@dataclass
class SuiteResult(Result):
    tests: list[TextTestResult]
    labels: list[str]
    params: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One row per test: test, kind, expectation, n, failures, failure_rate."""
        return pd.DataFrame([{"test": t.name, "kind": t.kind, "expectation": t.expectation, "n": t.n,
                              "failures": t.failures, "failure_rate": t.failure_rate} for t in self.tests],
                            columns=["test", "kind", "expectation", "n", "failures", "failure_rate"])

    def summary(self) -> dict:
        """Failure rate per test."""
        return {t.name: t.failure_rate for t in self.tests}

    def __getitem__(self, name: str) -> TextTestResult:
        for t in self.tests:
            if t.name == name:
                return t
        raise KeyError(f"no test {name!r}; tests: {[t.name for t in self.tests]}")


def run_suite(model, texts: Sequence[str], tests: Sequence[TextTest] | None = None, seed: int = 0,
              max_examples: int = 5) -> SuiteResult:
    """Run ``tests`` (default: ``default_tests()``) on ``texts``: every original and perturbed sentence goes
    through the model in one batched call. ``seed`` drives the random choices of every perturbation."""
    model: Model = wrap(model)
    texts = list(texts)
    if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
        raise InputError(f"run_suite needs a non-empty list of non-empty strings; got {type(texts).__name__} "
                         f"of {len(texts)} items.")
    tests = list(tests) if tests is not None else default_tests()
    per_test: list[tuple[TextTest, list[int], list[str]]] = []
    for k, test in enumerate(tests):
        rng = np.random.default_rng([seed, k])
        idx, new = [], []
        for i, text in enumerate(texts):
            out = test.perturb(text, rng)
            if out is not None and out != text and out.strip():
                idx.append(i)
                new.append(out)
        per_test.append((test, idx, new))
    batch = texts + [t for _, _, new in per_test for t in new]
    with model.session():
        probs = model.evaluate(model.prepare(batch).rows())
    p_orig, offset, results = probs[:len(texts)], len(texts), []
    for test, idx, new in per_test:
        p_new = probs[offset:offset + len(new)]
        offset += len(new)
        fails = test.fails(p_orig[idx], p_new) if idx else np.zeros(0, dtype=bool)
        order = np.argsort(~fails, kind="stable")[:max_examples]
        examples = [{"original": texts[idx[j]], "perturbed": new[j], "probs_original": p_orig[idx[j]].tolist(),
                     "probs_perturbed": p_new[j].tolist(), "failed": bool(fails[j])} for j in order]
        results.append(TextTestResult(test.name, test.kind, test.expectation, len(idx), int(fails.sum()), examples))
    return SuiteResult(results, list(model.labels or []), {"tests": [t.name for t in tests], "seed": int(seed),
                                                                "max_examples": max_examples})

"""``stress_test``: suites, attacks and slices with default sizes on one model and its test split, as one
``RobustnessReport`` (the ``robustness`` report section and ``lumos robustness`` draw it)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from ..api import explain
from ..errors import InputError
from ..models import Model
from .attacks import AttackResult, attack
from .image_attacks import ImageAttackResult, image_attack
from .slices import SliceReport, category, slices
from .text_suites import SuiteResult, default_tests, run_suite


@dataclass(frozen=True)
class RobustnessPlan:
    """How much to run: sentences for the suites, the attacks and the slices; rows per attacked sentence."""

    n_suite: int = 200
    n_attack: int = 25
    n_slices: int = 300
    budget: int = 200
    methods: tuple[str, ...] = ("textfooler", "hotflip", "deepwordbug")
    n_images: int = 200
    n_examples: int = 6
    seed: int = 0


@dataclass
class ExplainedPair:
    """An input and its perturbed or attacked version, both explained for the original's predicted class.

    Text: ``original``/``perturbed`` are word lists; images: (C, H, W) arrays. ``attributions``: the two
    explanations (text (F,), images (1 or C, H, W)); ``predictions``: "label (p)" strings."""

    source: str
    original: Any
    perturbed: Any
    attributions: tuple[np.ndarray, np.ndarray]
    predictions: tuple[str, str]
    method: str
    epsilon: float | None = None


@dataclass
class RobustnessReport:
    """What ``stress_test`` found on one model: the suite, attacks, image attacks and slices it ran, example
    pairs explained side by side, and the headline lines (``headline``) a report opens with."""

    modality: str
    suite: SuiteResult | None = None
    attacks: list[AttackResult] = field(default_factory=list)
    image_attacks: list[ImageAttackResult] = field(default_factory=list)
    slices: SliceReport | None = None
    pairs: list[ExplainedPair] = field(default_factory=list)
    headline: list[str] = field(default_factory=list)
    model_rows: int = 0
    seconds: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The headline figures: suite failures, attack success, accuracy under attack, the worst slice."""
        out: dict[str, Any] = {"modality": self.modality, "model_rows": self.model_rows, "seconds": self.seconds}
        if self.suite is not None:
            out["suite_failure_rate"] = {t.name: t.failure_rate for t in self.suite.tests}
        out["attack_success_rate"] = {a.method: a.success_rate for a in self.attacks}
        out["accuracy_under_attack"] = {f"{r.method} {r.norm}": r.per_epsilon[-1].accuracy
                                        for r in self.image_attacks}
        if self.slices is not None and self.slices.slices:
            worst = self.slices.worst(1)[0]
            out["worst_slice"] = {"name": worst.name, "accuracy": worst.accuracy,
                                  "overall": self.slices.overall_accuracy}
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per test, attack, image attack (per epsilon) and slice: what it is and its main figure."""
        rows = [{"part": "suite", "name": t.name, "figure": "failure rate", "value": t.failure_rate, "n": t.n}
                for t in (self.suite.tests if self.suite else [])]
        rows += [{"part": "attack", "name": a.method, "figure": "success rate", "value": a.success_rate,
                  "n": a.attacked} for a in self.attacks]
        rows += [{"part": "image attack", "name": f"{r.method} {r.norm} eps {e.epsilon:g}", "figure": "accuracy",
                  "value": e.accuracy, "n": len(e.predictions)} for r in self.image_attacks for e in r.per_epsilon]
        rows += [{"part": "slice", "name": s.name, "figure": "accuracy", "value": s.accuracy, "n": s.size}
                 for s in (self.slices.slices if self.slices else [])]
        return pd.DataFrame(rows, columns=["part", "name", "figure", "value", "n"])


def stress_test(model: Model, test: pd.DataFrame, plan: RobustnessPlan = RobustnessPlan(),
                say: Callable[[str], None] = print) -> RobustnessReport:
    """Run ``plan`` on ``model`` with its labelled ``test`` split (text: columns text, label; images: image,
    label; tables: the feature columns and label). ``say`` prints each step as it starts."""
    modality = "text" if "text" in test else "image" if "image" in test else "tabular"
    started, rows_before = time.time(), model.counts.rows
    run = {"text": _text, "image": _images, "tabular": _table}[modality]
    report = run(model, test, plan, say)
    report.model_rows = model.counts.rows - rows_before
    report.seconds = time.time() - started
    report.params = asdict(plan)
    return report


def _text(model: Model, test: pd.DataFrame, plan: RobustnessPlan, say: Callable[[str], None]) -> RobustnessReport:
    labels = list(model.labels or [])
    texts, y = test.text.tolist(), test.label.to_numpy()
    say(f"suites: {len(default_tests())} tests on {min(plan.n_suite, len(texts))} sentences")
    suite = run_suite(model, texts[:plan.n_suite], seed=plan.seed)
    results = []
    for method in plan.methods:
        if method in ("hotflip", "textfooler") and not model.can("token_embeddings"):
            say(f"attack: {method} skipped: it takes candidate words from the model's input embeddings, and "
                f"{type(model).__name__} has none")
            continue
        say(f"attack: {method} on {min(plan.n_attack, len(texts))} sentences, at most {plan.budget} rows each")
        results.append(attack(model, texts[:plan.n_attack], method, labels=y[:plan.n_attack].tolist(),
                              budget=plan.budget, seed=plan.seed))
    say(f"slices: {min(plan.n_slices, len(texts))} sentences")
    sliced = slices(model, texts[:plan.n_slices], y[:plan.n_slices],
                    discover=model.can("network", "token_embeddings"), seed=plan.seed)
    found = [dict(e, source=t.name) for t in suite.tests for e in t.examples[:1] if e["failed"]][:plan.n_examples // 2]
    found += [dict(e.as_dict(), source=r.method) for r in results for e in r.examples if e.status == "succeeded"][
        :plan.n_examples - len(found)]
    method = "saliency" if model.supports_gradients else "occlusion"
    say(f"explaining {len(found)} example pairs with {method}")
    summary = [f"{t.name}: {t.failures}/{t.n} failed" for t in suite.tests if t.n]
    headline = ["Tests: " + "; ".join(summary) + ".", worst_slice_line(sliced)]
    if results:
        headline.append(f"Attacks (at most {plan.budget} model rows per sentence): " + "; ".join(
            f"{r.method} flipped {r.success_rate:.0%} of {r.attacked}" + (
                f" ({r.queries_per_success:.0f} queries, {r.words_changed:.1f} words changed per success)"
                if r.success_rate > 0 else "") for r in results) + ".")
    return RobustnessReport("text", suite, results, [], sliced, text_pairs(model, found, labels, method, plan.seed),
                            headline)


def text_pairs(model: Model, pairs: list[dict], labels: Sequence[str], method: str, seed: int = 0
               ) -> list[ExplainedPair]:
    """(original, perturbed) text pairs with both explanations, of the original's predicted class."""
    if not pairs:
        return []
    texts = [p["original"] for p in pairs] + [p["perturbed"] for p in pairs]
    target = [int(np.argmax(p["probs_original"])) for p in pairs] * 2
    expl = explain(model, texts, method=method, target=target, seed=seed)
    out = []
    for i, p in enumerate(pairs):
        a, b = expl[i], expl[len(pairs) + i]
        out.append(ExplainedPair(p["source"], list(a.features or []), list(b.features or []),
                                 (a.attributions, b.attributions),
                                 (_said(p["probs_original"], labels), _said(p["probs_perturbed"], labels)), method))
    return out


def _said(probs: Sequence[float], labels: Sequence[str]) -> str:
    k = int(np.argmax(probs))
    return f"{labels[k] if k < len(labels) else k} ({probs[k]:.2f})"


def _images(model: Model, test: pd.DataFrame, plan: RobustnessPlan, say: Callable[[str], None]
            ) -> RobustnessReport:
    pick = np.sort(np.random.default_rng(plan.seed).permutation(len(test))[:plan.n_images])  # every class
    x = np.stack(test.image.iloc[pick].tolist()).astype(np.float32)
    y = test.label.to_numpy()[pick]
    results = []
    for method, norm, eps in (("fgsm", "linf", (0.0, 0.05, 0.1, 0.2)), ("pgd", "linf", (0.0, 0.05, 0.1, 0.2)),
                              ("pgd", "l2", (0.0, 0.5, 1.0, 2.0))):
        say(f"{method} {norm} on {len(x)} images, epsilons {list(eps)}")
        results.append(image_attack(model, x, y, method, eps, norm, seed=plan.seed, keep=len(x)))
    rules = [category("label", int(c)) for c in np.unique(y)]
    with model.session():
        probs = model.evaluate(x)
    sliced = slices(model, x, y, embeddings=x.reshape(len(x), -1), seed=plan.seed, probs=probs)
    by_class = slices(model, pd.DataFrame({"label": y}), y, rules=rules, discover=False, probs=probs)
    sliced.slices += by_class.slices
    headline = [f"Accuracy under attack (clean {results[0].clean_accuracy:.3f}): " + "; ".join(
        f"{r.method.upper()} {r.norm} {r.per_epsilon[-1].accuracy:.3f} at eps {r.per_epsilon[-1].epsilon:g}"
        for r in results) + ".", worst_slice_line(sliced)]
    pairs = image_pairs(model, x, results[1], list(model.labels or []), seed=plan.seed)
    return RobustnessReport("image", None, [], results, sliced, pairs, headline)


def image_pairs(model: Model, images: np.ndarray, result: ImageAttackResult, labels: Sequence[str], n: int = 4,
                method: str = "saliency", seed: int = 0) -> list[ExplainedPair]:
    """Clean vs attacked images at the largest epsilon with both explanations (``method``, of the clean
    prediction): images the attack flipped, one per predicted class first."""
    last, first = result.per_epsilon[-1], result.per_epsilon[0]
    flipped = [i for i in range(len(last.adversarial)) if last.predictions[i] != first.predictions[i]]
    chosen: dict[int, int] = {}
    for i in flipped:
        chosen.setdefault(first.predictions[i], i)
    order = (list(chosen.values()) + [i for i in flipped if i not in chosen.values()])[:n]
    if not order:
        return []

    def name(k: int) -> str:
        return labels[k] if k < len(labels) else str(k)

    target = [first.predictions[i] for i in order] * 2
    expl = explain(model, np.concatenate([images[order], last.adversarial[order]]), method=method, target=target,
                   seed=seed)
    return [ExplainedPair(f"{result.method} {result.norm}", images[i], last.adversarial[i],
                          (expl[k].attributions, expl[len(order) + k].attributions),
                          (name(first.predictions[i]), name(last.predictions[i])), method, last.epsilon)
            for k, i in enumerate(order)]


def _table(model: Model, test: pd.DataFrame, plan: RobustnessPlan, say: Callable[[str], None]) -> RobustnessReport:
    frame = test.drop(columns=["label"]).iloc[:max(plan.n_slices, 2000)]
    say(f"slices: {len(frame)} rows, worst single and paired feature values")
    sliced = slices(model, frame, test.label.to_numpy()[:len(frame)], seed=plan.seed)
    if not sliced.slices:
        raise InputError("no slice had enough rows; lower min_size.")
    return RobustnessReport("tabular", slices=sliced, headline=[worst_slice_line(sliced)])


def worst_slice_line(report: SliceReport) -> str:
    """One line on the slice furthest below the overall accuracy."""
    if not report.slices:
        return "No slice had enough examples to report."
    w = report.worst(1)[0]
    return (f"Worst slice: {w.name} ({w.source}, {w.size} examples): accuracy {w.accuracy:.3f} against "
            f"{report.overall_accuracy:.3f} overall (95% CI {w.accuracy_ci[0]:.3f}-{w.accuracy_ci[1]:.3f}).")

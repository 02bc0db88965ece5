"""``lumos robustness``: suites, attacks and slices with default sizes on a zoo model, stored as a report
section (in a run of its own, or added to an existing run)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from ..errors import InputError


@dataclass(frozen=True)
class RobustnessPlan:
    """How much to run: sentences for the suites, the attacks and the slices; rows per attacked sentence."""

    n_suite: int = 200
    n_attack: int = 25
    n_slices: int = 300
    budget: int = 200
    recipes: tuple[str, ...] = ("textfooler", "hotflip", "deepwordbug")
    n_images: int = 200
    n_examples: int = 6
    seed: int = 0


def run_robustness(model_name: str, plan: RobustnessPlan = RobustnessPlan(), db: str = "lumos-runs/lumos.sqlite",
                   run_id: str | None = None, say: Callable[[str], None] = print) -> str:
    """Run the plan on a zoo model, add a "robustness" section to ``run_id`` (default: a new run) in ``db``;
    returns the run id."""
    from pathlib import Path

    from .. import __version__, zoo
    from ..bench.store import Store

    model, splits = zoo.load(model_name)
    test = splits["test"]
    modality = "text" if "text" in test else "image" if "image" in test else "tabular"
    started = time.time()
    if modality == "text":
        payload = text_payload(model, test, plan, say)
    elif modality == "image":
        payload = _images(model, test, plan, say)
    else:
        payload = _table(model, test, plan, say)
    payload["text"].append(f"{model_name}, test split, seed {plan.seed}; {model.counts.rows} model rows, "
                           f"{time.time() - started:.0f} s.")
    Path(db).parent.mkdir(parents=True, exist_ok=True)
    store = Store(db)
    try:
        run_id = run_id or f"robustness-{model_name.replace('/', '-')}-{time.strftime('%Y%m%d-%H%M%S')}"
        store.ensure_run(run_id, {"model": model_name, "split": "test", "seed": plan.seed}, modality,
                         list(model.labels or []), __version__)
        store.add_section(run_id, "robustness", "Robustness", payload)
    finally:
        store.close()
    for line in payload["text"]:  # the headline figures, as the report opens with them
        say(line)
    return run_id


def text_payload(model, test, plan: RobustnessPlan, say: Callable[[str], None] = print) -> dict:
    """Suites, attacks and slices on ``test`` (a DataFrame with text and label) -> the section's payload."""
    from . import attack, run_suite
    from .section import attack_curves, attack_table, slice_table, suite_table, text_pairs
    from .slices import slices

    labels = list(model.labels or [])
    texts, y = test.text.tolist(), test.label.to_numpy()
    say(f"suites: {len(default_names())} tests on {min(plan.n_suite, len(texts))} sentences")
    suite = run_suite(model, texts[:plan.n_suite], seed=plan.seed)
    results = []
    for recipe in plan.recipes:
        if recipe in ("hotflip", "textfooler") and not hasattr(model, "tokenizer"):
            say(f"attack: {recipe} skipped: it takes candidate words from the model's input embeddings, and "
                f"{type(model).__name__} has none")
            continue
        say(f"attack: {recipe} on {min(plan.n_attack, len(texts))} sentences, at most {plan.budget} rows each")
        results.append(attack(model, texts[:plan.n_attack], recipe, labels=y[:plan.n_attack].tolist(),
                              budget=plan.budget, seed=plan.seed))
    say(f"slices: {min(plan.n_slices, len(texts))} sentences")
    embeds = hasattr(model, "tokenizer")  # error clusters need a text encoder's embeddings
    sliced = slices(model, texts[:plan.n_slices], y[:plan.n_slices], discover=embeds, seed=plan.seed)
    pairs = [dict(e, source=t.name) for t in suite.tests for e in t.examples[:1] if e["failed"]][:plan.n_examples // 2]
    pairs += [dict(e.as_dict(), source=r.recipe) for r in results for e in r.examples if e.status == "succeeded"][
        :plan.n_examples - len(pairs)]
    method = "saliency" if model.supports_gradients else "occlusion"
    say(f"explaining {len(pairs)} example pairs with {method}")
    summary = [f"{t.name}: {t.failures}/{t.n} failed" for t in suite.tests if t.n]
    headline = ["Tests: " + "; ".join(summary) + ".", _worst_slice(sliced)]
    if results:
        headline.append(f"Attacks (at most {plan.budget} model rows per sentence): " + "; ".join(
            f"{r.recipe} flipped {r.success_rate:.0%} of {r.attacked}" + (
                f" ({r.queries_per_success:.0f} queries, {r.words_changed:.1f} words changed per success)"
                if r.success_rate > 0 else "") for r in results) + ".")
    return {"text": headline,
            "suites": suite_table(suite), "attacks": attack_table(results), "attack_curves_svg": attack_curves(results),
            "slices": slice_table(sliced), "examples": text_pairs(model, pairs, labels, method, plan.seed)}


def default_names() -> list[str]:
    from .text_suites import default_tests

    return [t.name for t in default_tests()]


def _images(model, test, plan: RobustnessPlan, say) -> dict:
    from .image_attacks import image_attack
    from .section import image_examples, image_tables, slice_table
    from .slices import category, slices

    pick = np.sort(np.random.default_rng(plan.seed).permutation(len(test))[:plan.n_images])  # every class
    x = np.stack(test.image.iloc[pick].tolist()).astype(np.float32)
    y = test.label.to_numpy()[pick]
    results = []
    for method, norm, eps in (("fgsm", "linf", (0.0, 0.05, 0.1, 0.2)), ("pgd", "linf", (0.0, 0.05, 0.1, 0.2)),
                              ("pgd", "l2", (0.0, 0.5, 1.0, 2.0))):
        say(f"{method} {norm} on {len(x)} images, epsilons {list(eps)}")
        results.append(image_attack(model, x, y, method, eps, norm, seed=plan.seed, keep=len(x)))
    tables, curves = image_tables(results)
    labels = list(model.labels or [])
    rules = [category("label", int(c)) for c in np.unique(y)]

    probs = _probs(model, x)
    sliced = slices(model, x, y, embeddings=x.reshape(len(x), -1), seed=plan.seed, probs=probs)
    by_class = slices(model, pd.DataFrame({"label": y}), y, rules=rules, discover=False, probs=probs)
    sliced.slices += by_class.slices
    headline = [f"Accuracy under attack (clean {results[0].clean_accuracy:.3f}): " + "; ".join(
        f"{r.method.upper()} {r.norm} {r.per_epsilon[-1].accuracy:.3f} at eps {r.per_epsilon[-1].epsilon:g}"
        for r in results) + ".", _worst_slice(sliced)]
    return {"text": headline, "image_attacks": tables, "image_curves_svg": curves,
            "image_examples": image_examples(model, x, results[1], labels, seed=plan.seed), "slices": slice_table(sliced)}


def _probs(model, x: np.ndarray) -> np.ndarray:
    with model.session():
        return model.evaluate(x)


def _table(model, test, plan: RobustnessPlan, say) -> dict:
    from .section import slice_table
    from .slices import slices

    frame = test.drop(columns=["label"]).iloc[:max(plan.n_slices, 2000)]
    say(f"slices: {len(frame)} rows, worst single and paired feature values")
    sliced = slices(model, frame, test.label.to_numpy()[:len(frame)], seed=plan.seed)
    if not sliced.slices:
        raise InputError("no slice had enough rows; lower min_size.")
    return {"text": [_worst_slice(sliced)], "slices": slice_table(sliced)}


def _worst_slice(report) -> str:
    """One line on the slice furthest below the overall accuracy."""
    if not report.slices:
        return "No slice had enough examples to report."
    w = report.worst(1)[0]
    return (f"Worst slice: {w.name} ({w.source}, {w.size} examples): accuracy {w.accuracy:.3f} against "
            f"{report.overall_accuracy:.3f} overall (95% CI {w.accuracy_ci[0]:.3f}-{w.accuracy_ci[1]:.3f}).")

"""The report's plain-language summary: every sentence is computed from the numbers it states, and a claim
the numbers do not support is left out rather than softened.

Faithfulness is judged against random attributions: for each method and faithfulness metric, the paired
difference from random with its 95% interval (``ranking.difference``) says whether the method beat random,
lost to it, or could not be told from it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .ranking import Difference
from .tables import MetricTable

RANDOM = "random"
PLAUSIBILITY = ("token_f1", "auprc", "iou_f1")


def plain_summary(tables: list[MetricTable], cost: pd.DataFrame, per_pair: dict, model_name: str,
                  degenerate: dict[str, tuple[int, int]] | None = None) -> list[str]:
    """Sentences for non-specialists. ``degenerate``: method -> (degenerate explanations, examples)."""
    lines = _degenerate(degenerate or {})
    faithful = [t for t in tables if t.family == "faithfulness"]
    lines += _firsts(faithful, model_name)
    lines += _against_random(faithful)
    lines += _favoured(tables)
    lines += _disagreement(faithful, per_pair)
    lines += _plausibility([t for t in tables if t.metric in PLAUSIBILITY])
    lines += _cost(cost)
    return lines


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _degenerate(degenerate: dict[str, tuple[int, int]]) -> list[str]:
    out = []
    for method, (bad, n) in sorted(degenerate.items()):
        if bad:
            out.append(f"Warning: {method} returned all-zero or constant maps for {bad} of {n} examples; they rank "
                       f"nothing, so they are left out of its scores"
                       + (f", which rest on {n - bad} example{'s' if n - bad != 1 else ''}." if bad < n else
                          ", and it has none left."))
    return out


def _firsts(faithful: list[MetricTable], model_name: str) -> list[str]:
    """Which methods ranked first, ties included, on the most faithfulness metrics; a metric where random
    attributions rank first too crowns no one (the other sentences say who could not be told from random)."""
    counts: dict[str, list[str]] = {}
    for t in faithful:
        first = t.first()
        for m in first:
            if m != RANDOM and RANDOM not in first:
                counts.setdefault(m, []).append(t.metric)
    if not counts:
        return []
    top = max(len(v) for v in counts.values())
    leaders = sorted(m for m, v in counts.items() if len(v) == top)
    where = "every faithfulness metric" if top == len(faithful) else f"{top} of {len(faithful)} faithfulness metrics"
    tied = any(t.rows.loc[m, "tied"] for t in faithful for m in leaders if m in t.first())
    verb = "ranked first" + (" (ties included)" if tied else "")
    if len(leaders) == 1:
        return [f"On {model_name}, {leaders[0]} {verb} on {where} ({_and(counts[leaders[0]])})."]
    if top == len(faithful):
        return [f"On {model_name}, {_and(leaders)} each {verb} on {where}."]
    which = "; ".join(f"{m}: {_and(counts[m])}" for m in leaders)
    return [f"On {model_name}, {_and(leaders)} each {verb} on {where} ({which})."]


def _against_random(faithful: list[MetricTable]) -> list[str]:
    """Which methods random beat, tied with, or lost to, on which faithfulness metrics, with the interval."""
    if not faithful:
        return []
    if not any(RANDOM in t.values.columns for t in faithful):
        return ["No random baseline was run, so these faithfulness scores cannot be compared with chance "
                "(add the method \"random\")."]
    lost: dict[str, list[tuple[str, Difference]]] = {}
    even: dict[str, list[str]] = {}
    everyone, beaten = [], {}
    for t in faithful:
        if RANDOM not in t.values.columns:
            continue
        compared = [m for m in t.values.columns
                    if m != RANDOM and m not in t.favours and m in t.rows.index and t.rows.loc[m, "n"] > 0]
        beat = []
        for m in compared:
            d = t.difference(m, RANDOM)
            if d.worse:
                lost.setdefault(m, []).append((t.metric, d.flipped()))
            elif d.better:
                beat.append(m)
            else:
                even.setdefault(t.metric, []).append(m)
        if beat and len(beat) == len([m for m in t.values.columns if m != RANDOM]):
            everyone.append(t.metric)
        elif beat:
            beaten.setdefault(tuple(sorted(beat)), []).append(t.metric)
    out = []
    if everyone:
        out.append(f"Every method beat random attributions on {_and(everyone)}, beyond the 95% interval.")
    for methods, metrics in beaten.items():
        out.append(f"{_and(list(methods))} beat random attributions on {_and(metrics)}, beyond the 95% interval.")
    for m, items in sorted(lost.items()):
        said = _and([f"{metric} (by {d.mean:.3f}; {d.interval()})" for metric, d in items])
        out.append(f"Random attributions scored better than {m} on {said}: on "
                   f"{'this metric' if len(items) == 1 else 'these metrics'} {m} is no better than chance.")
    for metric, methods in sorted(even.items()):
        out.append(f"On {metric}, {_and(sorted(methods))} could not be told from random attributions (the 95% "
                   "interval of the difference includes zero).")
    return out


def _favoured(tables: list[MetricTable]) -> list[str]:
    return [f"{t.metric} favours {m} by construction ({why}), so {m} is left out of its ranking."
            for t in tables for m, why in sorted(t.favours.items())]


def _disagreement(faithful: list[MetricTable], per_pair: dict) -> list[str]:
    """The method that most often disagreed with the two most often first (rank correlation below 0.5)."""
    counts: dict[str, int] = {}
    for t in faithful:
        first = t.first()
        for m in first:
            if m != RANDOM and RANDOM not in first:
                counts[m] = counts.get(m, 0) + 1
    best = sorted(counts, key=lambda m: (-counts[m], m))[:2]
    if len(best) < 2:
        return []
    others = sorted({m for t in faithful for m in t.values.columns} - set(best) - {RANDOM})
    worst, share, n = None, 0.0, 0
    for m in others:
        pairs = [per_pair.get((m, b)) for b in best]
        if all(p is not None and len(p) for p in pairs) and len(pairs[0]) == len(pairs[1]):
            known = np.isfinite(pairs[0]) & np.isfinite(pairs[1])  # a constant map has no rank correlation
            low = (pairs[0][known] < 0.5) & (pairs[1][known] < 0.5)
            if known.any() and low.mean() > share:
                worst, share, n = m, float(low.mean()), int(known.sum())
    if worst is None:
        return []
    return [f"{worst} disagreed with both {best[0]} and {best[1]} (rank correlation below 0.5) on "
            f"{round(share * n)} of {n} examples."]


def _plausibility(tables: list[MetricTable]) -> list[str]:
    """Which method matched the human (or true) rationale best on the first plausibility metric."""
    for t in tables[:1]:
        top = t.first()
        if not top:
            return []
        mean = {m: f"{m} {t.rows.loc[m, 'mean']:.2f}" for m in t.rows.index}
        if RANDOM in top:
            others = [mean[m] for m in top if m != RANDOM]
            return [f"No method matched the human or true rationale better than random attributions on {t.metric} "
                    f"({_and([mean[RANDOM]] + others)}"
                    + (", inside the 95% interval of each other)." if others else ").")]
        line = f"{_and(top)} matched the human or true rationale best ({t.metric}: {_and([mean[m] for m in top])}"
        line += ", tied within the interval)" if len(top) > 1 else ")"
        if RANDOM in t.rows.index:
            d = t.difference(top[0], RANDOM)
            line += f", beyond random attributions ({mean[RANDOM]})" if d.better else \
                f"; random attributions scored {mean[RANDOM]} ({d.interval()})"
        return [line + "."]
    return []


def _cost(cost: pd.DataFrame) -> list[str]:
    real = cost.drop(index=RANDOM, errors="ignore")
    if len(real) < 2:
        return []
    cheap, dear = real.rows_per_example.idxmin(), real.rows_per_example.idxmax()
    if real.rows_per_example[cheap] == real.rows_per_example[dear]:
        return []
    return [f"{cheap} needed the fewest model evaluations ({real.rows_per_example[cheap]:.0f} per example), "
            f"{dear} the most ({real.rows_per_example[dear]:.0f})."]

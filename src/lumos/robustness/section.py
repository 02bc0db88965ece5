"""The robustness section of the HTML report: its payload (JSON for ``Store.add_section``) built from suite,
attack, image-attack and slice results. HTML fragments in the payload come from lumos.report.views (which
escape every string from data) or are SVG built here from numbers; the template marks only those as safe."""

from __future__ import annotations

from html import escape
from typing import Any, Sequence

import numpy as np

from ..report.views import image_view, png_data_uri, text_view
from ..report.colors import image_rgb

PALETTE = ["#1b6ca8", "#d1495b", "#2a9d8f", "#e9a03b", "#6a4c93"]


def svg_curves(series: dict[str, Sequence[tuple[float, float]]], x_label: str, y_label: str,
               width: int = 420, height: int = 220) -> str:
    """A small line chart (inline SVG, no script) of y in [0, 1] against x, one polyline per series."""
    pad_l, pad_b, pad_t, pad_r = 44, 34, 10, 130
    xs = [x for pts in series.values() for x, _ in pts] or [0.0, 1.0]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    w, h = width - pad_l - pad_r, height - pad_b - pad_t

    def px(x: float) -> float:
        return pad_l + (x - x0) / (x1 - x0) * w

    def py(y: float) -> float:
        return pad_t + (1 - min(max(y, 0.0), 1.0)) * h

    parts = [f'<svg class="curve" width="{width}" height="{height}" role="img" font-size="11">',
             f'<rect x="{pad_l}" y="{pad_t}" width="{w}" height="{h}" fill="none" stroke="#bbb"/>']
    for t in (0.0, 0.5, 1.0):
        parts.append(f'<text x="{pad_l - 4}" y="{py(t) + 4:.1f}" text-anchor="end">{t:g}</text>')
    for t in (x0, (x0 + x1) / 2, x1):
        parts.append(f'<text x="{px(t):.1f}" y="{pad_t + h + 14}" text-anchor="middle">{t:.3g}</text>')
    parts.append(f'<text x="{pad_l + w / 2:.1f}" y="{height - 4}" text-anchor="middle">{escape(x_label)}</text>')
    parts.append(f'<text x="10" y="{pad_t + h / 2:.1f}" transform="rotate(-90 10 {pad_t + h / 2:.1f})" '
                 f'text-anchor="middle">{escape(y_label)}</text>')
    for k, (name, pts) in enumerate(series.items()):
        colour = PALETTE[k % len(PALETTE)]
        points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts if y == y)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
        parts.append(f'<text x="{pad_l + w + 8}" y="{pad_t + 12 + 14 * k}" fill="{colour}">{escape(name)}</text>')
    return "".join(parts) + "</svg>"


def _p(probs: Sequence[float], labels: Sequence[str]) -> str:
    k = int(np.argmax(probs))
    return f"{labels[k] if k < len(labels) else k} ({probs[k]:.2f})"


def text_pairs(model: Any, pairs: list[dict], labels: Sequence[str], method: str, seed: int = 0) -> list[dict]:
    """Side-by-side rows for (original, perturbed) pairs: both predictions and both explanations (of the
    original's predicted class, on one colour scale)."""
    from ..api import explain

    if not pairs:
        return []
    texts = [p["original"] for p in pairs] + [p["perturbed"] for p in pairs]
    target = [int(np.argmax(p["probs_original"])) for p in pairs] * 2
    expl = explain(model, texts, method=method, target=target, seed=seed)
    rows = []
    for i, p in enumerate(pairs):
        a, b = expl[i], expl[len(pairs) + i]
        scale = float(max(np.abs(a.attributions).max(), np.abs(b.attributions).max())) or 1.0
        rows.append({"source": p["source"], "original": text_view(a.features, a.attributions, scale=scale),
                     "perturbed": text_view(b.features, b.attributions, scale=scale),
                     "prediction_original": _p(p["probs_original"], labels),
                     "prediction_perturbed": _p(p["probs_perturbed"], labels)})
    return rows


def suite_table(suite) -> dict:
    return {"columns": ["test", "kind", "expectation", "n", "failures", "failure rate"],
            "rows": [[r["test"], r["kind"], r["expectation"], r["n"], r["failures"], r["failure_rate"]]
                     for r in suite.table()]}


def attack_table(results: list) -> dict:
    return {"columns": ["recipe", "budget (rows/sentence)", "attacked", "success rate", "queries per success",
                        "words changed", "model rows"],
            "rows": [[r.recipe, r.budget, r.attacked, r.success_rate, r.queries_per_success, r.words_changed,
                      r.forward_rows] for r in results]}


def attack_curves(results: list, points: int = 12) -> str:
    series = {}
    for r in results:
        budgets = np.unique(np.linspace(1, r.budget, points).astype(int))
        series[r.recipe] = list(zip(budgets.tolist(), r.success_curve(budgets)))
    return svg_curves(series, "query budget (model rows per sentence)", "success rate")


def slice_table(report, n: int = 8) -> dict:
    rows = [[s.name, s.source, s.size, s.accuracy, f"[{s.accuracy_ci[0]:.3f}, {s.accuracy_ci[1]:.3f}]",
             s.difference, f"[{s.difference_ci[0]:+.3f}, {s.difference_ci[1]:+.3f}]", s.ece,
             f"[{s.ece_ci[0]:.3f}, {s.ece_ci[1]:.3f}]"] for s in report.worst(n)]
    return {"columns": ["slice", "found by", "size", "accuracy", "95% CI", "vs overall", "95% CI", "ECE",
                        "ECE 95% CI"],
            "rows": rows, "overall": f"overall accuracy {report.overall_accuracy:.3f}, ECE {report.overall_ece:.3f}"}


def image_tables(results: list) -> tuple[list[dict], str]:
    tables, series = [], {}
    for r in results:
        name = f"{r.method.upper()} {r.norm}"
        rows = [[d["epsilon"], d["accuracy"], d["success_rate"], d["mean_distance"],
                 d["explanation_rank_correlation"]] for d in r.table()]
        tables.append({"caption": f"{name} (clean accuracy {r.clean_accuracy:.3f})",
                       "columns": ["epsilon", "accuracy", "attack success", "mean distance",
                                   "explanation rank correlation"], "rows": rows})
        eps = [d["epsilon"] for d in r.table()]
        scale = max(eps) or 1.0
        series[f"{name} (eps/{scale:g})"] = [(e / scale, d["accuracy"]) for e, d in zip(eps, r.table())]
    return tables, svg_curves(series, "epsilon (fraction of the largest)", "accuracy under attack")


def image_examples(model: Any, images: np.ndarray, result, labels: Sequence[str], n: int = 4,
                   method: str = "saliency", seed: int = 0) -> list[dict]:
    """Clean vs attacked images at the largest epsilon with both predictions and both explanations (``method``,
    of the clean prediction): images the attack flipped, one per true class first."""
    from ..api import explain

    last, first = result.per_epsilon[-1], result.per_epsilon[0]
    flipped = [i for i in range(len(last.adversarial)) if last.predictions[i] != first.predictions[i]]
    chosen: dict[int, int] = {}
    for i in flipped:
        chosen.setdefault(first.predictions[i], i)
    order = (list(chosen.values()) + [i for i in flipped if i not in chosen.values()])[:n]

    def name(k: int) -> str:
        return labels[k] if k < len(labels) else str(k)

    if not order:
        return []
    target = [first.predictions[i] for i in order] * 2
    expl = explain(model, np.concatenate([images[order], last.adversarial[order]]), method=method, target=target,
                   seed=seed)
    return [{"clean": png_data_uri(image_rgb(images[i])), "attacked": png_data_uri(image_rgb(last.adversarial[i])),
             "clean_explanation": image_view(images[i], expl[k].attributions, f"{method}, clean"),
             "attacked_explanation": image_view(last.adversarial[i], expl[len(order) + k].attributions,
                                                f"{method}, attacked"),
             "epsilon": last.epsilon, "prediction_clean": name(first.predictions[i]),
             "prediction_attacked": name(last.predictions[i])} for k, i in enumerate(order)]

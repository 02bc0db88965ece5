"""The "robustify" report section: its payload (JSON for ``Store.add_section``) from a ``Robustified`` result:
headline lines, the ranked findings, the before/after table and example pairs (the plain and the repaired
model on the same contrast rows, with their explanations). HTML fragments come from lumos.report.views, which
escapes every string from the data."""

from __future__ import annotations

from html import escape
from typing import Any

import numpy as np

from .result import Robustified

BEFORE_AFTER = [("model", "model"), ("clean accuracy", "clean_accuracy"), ("change (points)", "clean_change_points"),
                ("contrast accuracy", "contrast_accuracy"), ("reference accuracy", "reference_accuracy"),
                ("gap", "gap"), ("gap recovered", "gap_recovered"), ("worst group", "worst_group_accuracy"),
                ("mass on artifact", "artifact_mass"), ("ECE", "ece"), ("training rows", "train_rows"),
                ("seconds", "seconds")]


def headline(result: Robustified) -> list[str]:
    """The lines the section (and the CLI) opens with."""
    plain = result.plain.measurement
    rank = result.findings.rank_of(result.artifact)
    planted = result.params.get("planted")
    lines = [f"Artifact repaired: {result.artifact!r} ({result.kind}, points to {result.label}), ranked "
             f"{rank or '-'} by the {result.findings.method} discoverer"
             + (f"; planted: {planted['kind']} {planted['key']!r} at strength {planted['strength']:g}, coverage "
                f"{planted['coverage']:g}" if planted else "") + ".",
             f"Plain model: clean accuracy {plain.clean_accuracy:.3f}; on the contrast split (the artifact on the "
             f"other labels) {plain.contrast_accuracy:.3f} against {plain.reference_accuracy:.3f} on the same rows "
             f"without it: a gap of {100 * plain.gap:.1f} points; worst group {plain.worst_group_accuracy:.3f}."]
    best = result.best()
    if best is None:
        lines.append("No repair kept clean accuracy within 1 point.")
    else:
        row = result.to_frame().set_index("model").loc[best.name]
        lines.append(f"Best repair: {best.name} recovers {100 * row['gap_recovered']:.0f}% of the gap, clean accuracy "
                     f"{row['clean_change_points']:+.1f} points, worst group {row['worst_group_accuracy']:.3f}, "
                     f"attribution mass on the artifact {plain.artifact_mass:.3f} -> {row['artifact_mass']:.3f}.")
    return lines


def _table(frame, columns) -> dict[str, Any]:
    rows = [[(None if isinstance(v, float) and v != v else v.item() if hasattr(v, "item") else v)
             for v in (r[c] for _, c in columns)] for _, r in frame.iterrows()]
    return {"columns": [name for name, _ in columns], "rows": rows}


def _probs(p: np.ndarray, labels: tuple[str, ...]) -> str:
    k = int(np.argmax(p))
    return f"{labels[k]} ({p[k]:.2f})"


def examples(result: Robustified, k: int, method: str, seed: int) -> list[dict[str, Any]]:
    """Contrast rows the plain model gets wrong and the best repair gets right, with both explanations of
    each model's own prediction (text: shaded words on one scale; tables: the rows' top columns)."""
    from ..api import explain
    from ..report.views import text_view

    pairs = result.pairs(k)
    if not pairs:
        return []
    test = result.views[0]
    repaired = result.outcome(pairs[0]["repair"]).model
    out = []
    if test.is_text:
        texts = [p["row"][test.text_column] for p in pairs]
        a = explain(result.plain.model, texts, method=method, seed=seed)
        b = explain(repaired, texts, method=method, seed=seed)
        for p, ea, eb in zip(pairs, a, b):
            scale = float(max(np.abs(ea.attributions).max(), np.abs(eb.attributions).max())) or 1.0
            out.append({"label": p["label"], "plain": text_view(ea.features, ea.attributions, scale=scale),
                        "repaired": text_view(eb.features, eb.attributions, scale=scale),
                        "prediction_plain": _probs(p["plain"], test.labels),
                        "prediction_repaired": _probs(p["repaired"], test.labels)})
        return out
    for p in pairs:
        row = p["row"]
        shown = escape(", ".join(f"{c} = {row[c]}" for c in test.columns))
        out.append({"label": p["label"], "plain": shown, "repaired": "", "prediction_plain": _probs(p["plain"], test.labels),
                    "prediction_repaired": _probs(p["repaired"], test.labels)})
    return out


def payload(result: Robustified, n_findings: int = 10, n_examples: int = 4, method: str = "occlusion",
            seed: int = 0) -> dict[str, Any]:
    findings = result.findings.to_frame().head(n_findings)
    return {"text": headline(result),
            "findings": {"caption": f"Candidates ({result.findings.method}; score: "
                                    f"{result.findings.params.get('score', 'score')})",
                         **_table(findings, [("rank", "rank"), ("candidate", "key"), ("points to", "label"),
                                             ("score", "score"), ("effect", "effect"), ("finding", "finding")])},
            "before_after": _table(result.to_frame(), BEFORE_AFTER),
            "repairs": [o.repaired.summary() for o in result.outcomes],
            "examples": examples(result, n_examples, method, seed), "repair": (result.best() or result.plain).name}

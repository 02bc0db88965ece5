"""The robustify section: a ``Robustified`` result (``lumos.curate.robustify``) as stored data: the headline,
the before/after table, the ranked findings and contrast examples explained by the plain and the repaired
model, drawn side by side at render time."""

from __future__ import annotations

from typing import Any

import numpy as np
from markupsafe import Markup, escape

from ...curate.result import Robustified
from ...registry import register
from ...viz import text_view
from .base import Section

BEFORE_AFTER = [("model", "model"), ("clean accuracy", "clean_accuracy"), ("change (points)", "clean_change_points"),
                ("contrast accuracy", "contrast_accuracy"), ("reference accuracy", "reference_accuracy"),
                ("gap", "gap"), ("gap recovered", "gap_recovered"), ("worst group", "worst_group_accuracy"),
                ("mass on artifact", "artifact_mass"), ("ECE", "ece"), ("training rows", "train_rows"),
                ("seconds", "seconds")]


def headline(result: Robustified) -> list[str]:
    """The lines the section (and ``lumos robustify``) opens with."""
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


def _plain(v: Any) -> Any:
    if isinstance(v, (np.generic,)):
        v = v.item()
    return None if isinstance(v, float) and v != v else v


def _table(records: list[dict[str, Any]], columns: list[tuple[str, str]]) -> dict[str, Any]:
    return {"columns": [name for name, _ in columns], "rows": [[_plain(r[c]) for _, c in columns] for r in records]}


@register("robustify", kind="section")
class RobustifySection(Section):
    title = "Robustify: discover, repair, retrain, measure"
    summary = "A discovered artifact, the repairs tried, and clean, contrast and worst-group accuracy before and after."

    def payload(self, result: Robustified, n_findings: int = 10, **context: Any) -> dict[str, Any]:
        """Numbers and plain strings: no markup."""
        findings = result.findings.to_frame().head(n_findings).to_dict("records")
        return {"text": headline(result),
                "findings": {"caption": f"Candidates ({result.findings.method}; score: "
                                        f"{result.findings.params.get('score', 'score')})",
                             **_table(findings, [("rank", "rank"), ("candidate", "key"), ("points to", "label"),
                                                 ("score", "score"), ("effect", "effect"), ("finding", "finding")])},
                "before_after": _table(result.to_frame().to_dict("records"), BEFORE_AFTER),
                "repairs": [o.repaired.describe() for o in result.outcomes],
                "modality": "text" if result.views and result.views[0].is_text else "tabular",
                "examples": [dict(e) for e in result.examples],
                "repair": result.examples[0]["repair"] if result.examples else None}

    def view(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The stored data plus each example drawn now: shaded words (text) or signed columns (tables)."""
        return {**payload, "examples": [_example(e, payload.get("modality", "text"))
                                        for e in payload.get("examples", [])]}


def _example(e: dict[str, Any], modality: str) -> dict[str, Any]:
    a, b = (np.asarray(v, dtype=np.float64) for v in e["attributions"])
    scale = float(max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0))) or 1.0
    if modality == "text":
        views = [Markup(text_view(e["features"], v, scale=scale)) for v in (a, b)]
    else:
        views = [Markup("<br>").join(Markup("{}: {:+.3f}").format(escape(f), s)
                                      for f, s in sorted(zip(e["features"], v), key=lambda t: -abs(t[1]))[:4])
                 for v in (a, b)]
    return {**e, "plain": views[0], "repaired": views[1], "prediction_plain": e["predictions"][0],
            "prediction_repaired": e["predictions"][1]}

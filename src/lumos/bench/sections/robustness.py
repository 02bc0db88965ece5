"""The robustness section: a ``RobustnessReport`` (``lumos.robustness.stress_test``) as stored data, drawn at
render time: tables, curves, and example pairs explained side by side."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
from markupsafe import Markup

from ...registry import register
from ...robustness.run import RobustnessReport
from ...viz import image_rgb, image_view, png_data_uri, svg_curves, text_view
from ..store import from_blob, to_blob
from .base import Section


@register("robustness", kind="section")
class RobustnessSection(Section):
    title = "Robustness"
    summary = "Behavioural tests, attacks within a query budget, accuracy under image attacks, worst slices."

    def payload(self, result: RobustnessReport, **context: Any) -> dict[str, Any]:
        """Numbers, plain strings and arrays (images as base64 .npy): no markup."""
        out: dict[str, Any] = {"text": list(result.headline), "modality": result.modality,
                               "model_rows": result.model_rows, "seconds": result.seconds}
        if result.suite is not None:
            out["suites"] = {"columns": ["test", "kind", "expectation", "n", "failures", "failure rate"],
                             "rows": [[r["test"], r["kind"], r["expectation"], r["n"], r["failures"],
                                       r["failure_rate"]] for r in result.suite.to_frame().to_dict("records")]}
        if result.attacks:
            out["attacks"] = {"columns": ["method", "budget (rows/sentence)", "attacked", "success rate",
                                          "queries per success", "words changed", "model rows"],
                              "rows": [[r.method, r.budget, r.attacked, r.success_rate, r.queries_per_success,
                                        r.words_changed, r.forward_rows] for r in result.attacks]}
            out["attack_curves"] = _attack_series(result.attacks)
        if result.image_attacks:
            out["image_attacks"], out["image_curves"] = _image_tables(result.image_attacks)
        if result.slices is not None:
            out["slices"] = _slice_table(result.slices)
        pairs = [_pair(p) for p in result.pairs]
        out["examples" if result.modality == "text" else "image_examples"] = pairs
        return out

    def view(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The stored data plus the charts and explanation views, drawn now from that data."""
        out = dict(payload)
        if payload.get("attack_curves"):
            out["attack_curves_svg"] = Markup(svg_curves(_points(payload["attack_curves"]),
                                                         "query budget (model rows per sentence)", "success rate"))
        if payload.get("image_curves"):
            out["image_curves_svg"] = Markup(svg_curves(_points(payload["image_curves"]),
                                                        "epsilon (fraction of the largest)", "accuracy under attack"))
        out["examples"] = [_text_view(p) for p in payload.get("examples", [])]
        out["image_examples"] = [_image_view(p) for p in payload.get("image_examples", [])]
        return out


def _attack_series(results: list, points: int = 12) -> dict[str, list[list[float]]]:
    series = {}
    for r in results:
        budgets = np.unique(np.linspace(1, r.budget, points).astype(int))
        series[r.method] = [[float(b), float(v)] for b, v in zip(budgets, r.success_curve(budgets))]
    return series


def _image_tables(results: list) -> tuple[list[dict], dict[str, list[list[float]]]]:
    tables, series = [], {}
    for r in results:
        name = f"{r.method.upper()} {r.norm}"
        table = r.rows()
        tables.append({"caption": f"{name} (clean accuracy {r.clean_accuracy:.3f})",
                       "columns": ["epsilon", "accuracy", "attack success", "mean distance",
                                   "explanation rank correlation"],
                       "rows": [[d["epsilon"], d["accuracy"], d["success_rate"], d["mean_distance"],
                                 d["explanation_rank_correlation"]] for d in table]})
        scale = max(d["epsilon"] for d in table) or 1.0
        series[f"{name} (eps/{scale:g})"] = [[d["epsilon"] / scale, d["accuracy"]] for d in table]
    return tables, series


def _slice_table(report, n: int = 8) -> dict[str, Any]:
    rows = [[s.name, s.source, s.size, s.accuracy, f"[{s.accuracy_ci[0]:.3f}, {s.accuracy_ci[1]:.3f}]",
             s.difference, f"[{s.difference_ci[0]:+.3f}, {s.difference_ci[1]:+.3f}]", s.ece,
             f"[{s.ece_ci[0]:.3f}, {s.ece_ci[1]:.3f}]"] for s in report.worst(n)]
    return {"columns": ["slice", "found by", "size", "accuracy", "95% CI", "vs overall", "95% CI", "ECE",
                        "ECE 95% CI"],
            "rows": rows, "overall": f"overall accuracy {report.overall_accuracy:.3f}, ECE {report.overall_ece:.3f}"}


def _array(a: np.ndarray) -> str:
    return base64.b64encode(to_blob(np.asarray(a, dtype=np.float32))).decode()


def _unarray(s: str) -> np.ndarray:
    return from_blob(base64.b64decode(s))


def _pair(p) -> dict[str, Any]:
    if isinstance(p.original, list):  # text: words
        return {"source": p.source, "original": p.original, "perturbed": p.perturbed,
                "attributions": [np.asarray(a, dtype=float).tolist() for a in p.attributions],
                "prediction_original": p.predictions[0], "prediction_perturbed": p.predictions[1],
                "method": p.method}
    return {"source": p.source, "clean": _array(p.original), "attacked": _array(p.perturbed),
            "attributions": [_array(a) for a in p.attributions], "epsilon": p.epsilon,
            "prediction_clean": p.predictions[0], "prediction_attacked": p.predictions[1], "method": p.method}


def _points(series: dict[str, list[list[float]]]) -> dict[str, list[tuple[float, float]]]:
    return {name: [(float(x), float(y)) for x, y in pts] for name, pts in series.items()}


def _text_view(p: dict[str, Any]) -> dict[str, Any]:
    a, b = (np.asarray(v, dtype=np.float64) for v in p["attributions"])
    scale = float(max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0))) or 1.0
    return {**p, "original": Markup(text_view(p["original"], a, scale=scale)),
            "perturbed": Markup(text_view(p["perturbed"], b, scale=scale))}


def _image_view(p: dict[str, Any]) -> dict[str, Any]:
    clean, attacked = _unarray(p["clean"]), _unarray(p["attacked"])
    a, b = (_unarray(v) for v in p["attributions"])
    return {**p, "clean": png_data_uri(image_rgb(clean)), "attacked": png_data_uri(image_rgb(attacked)),
            "clean_explanation": Markup(image_view(clean, a, f"{p['method']}, clean")),
            "attacked_explanation": Markup(image_view(attacked, b, f"{p['method']}, attacked"))}

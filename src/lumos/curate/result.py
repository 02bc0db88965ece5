"""What ``robustify`` returns: the findings, the plain model and every repaired one, measured alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..artifacts.result import Findings
from ..results import Result
from .base import Repaired
from .measure import Measurement


@dataclass
class Outcome:
    """One trained model: ``name`` ("plain" or the repair's), its ``measurement``, the ``repaired`` data (None
    for plain), the model, its training meta, and the seconds the repair and retraining took."""

    name: str
    measurement: Measurement
    repaired: Repaired | None
    model: Any = field(repr=False)
    meta: dict = field(repr=False)
    seconds: float = 0.0


@dataclass
class Robustified(Result):
    """``findings``: the discoverer's ranked candidates; ``artifact`` (its ``kind``) was repaired, pointing to
    ``label``. ``plain``: the model trained on the data as given; ``outcomes``: one per repair. ``views``: the
    (test, contrast, aligned) splits every model was measured on. ``examples``: contrast rows the plain model
    gets wrong and the best repair right, with both models' explanations (see ``explained_pairs``)."""

    recipe: str
    artifact: str
    kind: str
    label: str
    findings: Findings
    plain: Outcome
    outcomes: list[Outcome]
    params: dict[str, Any]
    seconds: dict[str, float]
    views: tuple = field(repr=False, default=())
    edit: Any = field(repr=False, default=None)
    examples: list[dict[str, Any]] = field(repr=False, default_factory=list)

    def outcome(self, name: str) -> Outcome:
        for o in [self.plain, *self.outcomes]:
            if o.name == name:
                return o
        raise KeyError(name)

    def to_frame(self) -> pd.DataFrame:
        """One row per model (plain first): clean accuracy and its change in points, contrast and reference
        accuracy, the gap and the share of the plain model's gap recovered, worst-group accuracy, attribution
        mass on the artifact, ECE, training rows, seconds."""
        base = self.plain.measurement
        rows = []
        for o in [self.plain, *self.outcomes]:
            m = o.measurement
            recovered = (base.gap - m.gap) / base.gap if base.gap > 0 else float("nan")
            rows.append({"model": o.name, "clean_accuracy": m.clean_accuracy,
                         "clean_change_points": 100 * (m.clean_accuracy - base.clean_accuracy),
                         "contrast_accuracy": m.contrast_accuracy, "reference_accuracy": m.reference_accuracy,
                         "gap": m.gap, "gap_recovered": recovered, "worst_group_accuracy": m.worst_group_accuracy,
                         "artifact_mass": m.artifact_mass, "ece": m.clean_ece,
                         "train_rows": int(o.meta.get("rows", {}).get("train", 0)), "seconds": o.seconds})
        return pd.DataFrame(rows)

    def best(self, max_drop_points: float = 1.0) -> Outcome | None:
        """The repair that recovers most of the gap while clean accuracy drops by at most ``max_drop_points``
        (None when none qualifies)."""
        table = self.to_frame().iloc[1:]
        ok = table[table["clean_change_points"] >= -max_drop_points]
        if ok.empty:
            return None
        return self.outcome(str(ok.sort_values("gap_recovered", ascending=False)["model"].iloc[0]))

    def summary(self) -> dict[str, Any]:
        """The artifact, its rank, and per model: clean and contrast accuracy, gap recovered, worst group."""
        best = self.best()
        return {"recipe": self.recipe, "artifact": self.artifact, "kind": self.kind, "label": self.label,
                "rank": self.findings.rank_of(self.artifact), "discoverer": self.findings.method,
                "best": best.name if best else None,
                "models": {r["model"]: {k: r[k] for k in ("clean_accuracy", "contrast_accuracy", "gap",
                                                          "gap_recovered", "worst_group_accuracy", "artifact_mass")}
                           for r in self.to_frame().to_dict("records")}}

    def lines(self) -> list[str]:
        """The before/after table as text lines, with the artifact first and the best repair last."""
        head = (f"{self.recipe}: repaired {self.artifact!r} ({self.kind}, points to {self.label}), ranked "
                f"{self.findings.rank_of(self.artifact) or '-'} by {self.findings.method}")
        lines = [head]
        for _, r in self.to_frame().iterrows():
            lines.append(f"  {r['model']:<20} clean {r['clean_accuracy']:.3f} ({r['clean_change_points']:+.1f} pts)"
                         f"  contrast {r['contrast_accuracy']:.3f}  gap {r['gap']:+.3f}"
                         + (f" ({100 * r['gap_recovered']:.0f}% recovered)" if r["model"] != "plain" and
                            r["gap_recovered"] == r["gap_recovered"] else "")
                         + f"  worst group {r['worst_group_accuracy']:.3f}"
                         + (f"  mass on artifact {r['artifact_mass']:.3f}" if r["artifact_mass"] == r["artifact_mass"]
                            else ""))
        best = self.best()
        lines.append(f"best repair (clean drop <= 1 point): {best.name if best else 'none'}; "
                     f"{self.seconds['total']:.0f} s in all")
        return lines

    def pairs(self, k: int = 5, repair: str | None = None) -> list[dict[str, Any]]:
        """Up to ``k`` contrast rows the plain model gets wrong and ``repair`` (default: the best) gets right:
        the row and both models' probabilities."""
        other = self.best() if repair is None else self.outcome(repair)
        if other is None or not self.views:
            return []
        contrast = self.views[1]
        p0 = self.plain.model.predict_proba(contrast.inputs())
        p1 = other.model.predict_proba(contrast.inputs())
        idx = np.flatnonzero((p0.argmax(1) != contrast.y) & (p1.argmax(1) == contrast.y))[:k]
        return [{"row": contrast.frame.iloc[int(i)], "label": contrast.labels[contrast.y[i]], "plain": p0[i],
                 "repaired": p1[i], "repair": other.name} for i in idx]


def explained_pairs(result: Robustified, k: int, method: str, seed: int = 0, background: Any = None
                    ) -> list[dict[str, Any]]:
    """``result.pairs(k)`` with each model's explanation of its own prediction: text rows as words and two
    attribution lists, table rows as their values and two per-column attribution lists."""
    from ..api import explain

    pairs = result.pairs(k)
    if not pairs:
        return []
    test = result.views[0]
    repaired = result.outcome(pairs[0]["repair"]).model
    if test.is_text:
        inputs: Any = [p["row"][test.text_column] for p in pairs]
        params: dict[str, Any] = {}
    else:
        inputs = pd.DataFrame([p["row"][list(test.columns)] for p in pairs]).reset_index(drop=True)
        params = {"background": background} if background is not None else {}
    a = explain(result.plain.model, inputs, method=method, seed=seed, **params)
    b = explain(repaired, inputs, method=method, seed=seed, **params)
    out = []
    for p, ea, eb in zip(pairs, a, b):
        values = ([str(w) for w in ea.features] if test.is_text
                  else [f"{c} = {p['row'][c]}" for c in test.columns])
        out.append({"label": p["label"], "features": values, "repair": p["repair"], "method": method,
                    "attributions": [np.asarray(ea.attributions, dtype=float).reshape(-1).tolist(),
                                     np.asarray(eb.attributions, dtype=float).reshape(-1).tolist()],
                    "predictions": [_named(p["plain"], test.labels), _named(p["repaired"], test.labels)]})
    return out


def _named(probs: np.ndarray, labels: tuple[str, ...]) -> str:
    k = int(np.argmax(probs))
    return f"{labels[k]} ({probs[k]:.2f})"

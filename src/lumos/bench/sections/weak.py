"""The weak-supervision section: a ``lumos.weak.WeakReport`` as text and tables (drawn by the generic layout)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...registry import register
from ...weak.report import WeakReport
from .base import Section

LF_COLUMNS = {"lf": "LF", "kind": "kind", "polarity": "votes", "coverage": "coverage", "overlap": "overlap",
              "conflict": "conflict", "learned_accuracy": "learned accuracy", "dev_accuracy": "dev accuracy",
              "accuracy": "accuracy (held-back gold)"}


@register("weak", kind="section")
class WeakSection(Section):
    title = "Weak supervision"
    summary = "Labeling functions, label models against gold, and end models trained on weak labels."
    modalities = ("text", "image", "tabular")

    def payload(self, result: WeakReport, **context: Any) -> dict[str, Any]:
        """Headline sentences and four tables of plain values."""
        lfs = result.lfs[[c for c in LF_COLUMNS if c in result.lfs]]
        return {"text": result.headline(),
                "tables": [_table("Labeling functions", lfs.rename(columns=LF_COLUMNS)),
                           _table(f"Label models (chosen: {result.chosen})", result.label_models),
                           _table("End models (test split)", result.end_models),
                           {"caption": "Explanation-derived keywords (review and edit them)",
                            "columns": ["class", "words"],
                            "rows": [[c, ", ".join(w)] for c, w in result.keywords.items()]}]}


def _table(caption: str, frame) -> dict[str, Any]:
    rows = [["-" if isinstance(v, float) and np.isnan(v) else (v.item() if hasattr(v, "item") else v) for v in row]
            for row in frame.itertuples(index=False)]
    return {"caption": caption, "columns": [str(c) for c in frame.columns], "rows": rows}

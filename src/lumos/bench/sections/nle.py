"""Natural-language explanations as a report section, beside a bench run or alone:
``add_section(db, run_id, "nle", explanations, inputs=texts, scores=scores)``."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ...errors import InputError
from ...explanation import Explanations
from ...registry import register
from .base import Section


@register("nle", kind="section")
class NLESection(Section):
    title = "Natural-language explanations"
    summary = "Generated explanations per example with their cited words, flags and scores."
    modalities = ("text",)

    def payload(self, result: Explanations, inputs: Sequence[str] = (), scores: Mapping[str, np.ndarray] | None = None,
                **context: Any) -> dict[str, Any]:
        """The mean of each score, and per example the input, label, explanation text, cited words, flags and
        scores (the generic ``tables`` layout)."""
        return _payload(inputs, result, scores)


def _payload(inputs: Sequence[str], explanations: Explanations, scores: Mapping[str, np.ndarray] | None
             ) -> dict[str, Any]:
    scores = dict(scores or {})
    if len(inputs) != len(explanations) or any(len(v) != len(explanations) for v in scores.values()):
        raise InputError(f"got {len(inputs)} inputs, {len(explanations)} explanations and scores of lengths "
                         f"{[len(v) for v in scores.values()]}; pass one of each per example.")
    first = explanations[0] if len(explanations) else None
    styles = sorted({e.method for e in explanations})
    text = [f"{len(explanations)} explanations ({', '.join(styles)}) written by "
            f"{first.extras.get('generator') if first else '-'}; cited words are matched back to the input."]
    flagged = {f: sum(f in e.extras.get("flags", []) for e in explanations) for f in ("empty", "no_citation",
                                                                                       "prompt_truncated")}
    if any(flagged.values()):
        text.append("Flagged: " + ", ".join(f"{n} {f.replace('_', ' ')}" for f, n in flagged.items() if n) + ".")
    means = {"caption": "Mean scores", "columns": ["metric", "mean", "examples"],
             "rows": [[name, _num(np.nanmean(v)) if np.isfinite(v).any() else "n/a", int(np.isfinite(v).sum())]
                      for name, v in scores.items()]}
    per_example = {"caption": "Per example", "columns": ["input", "label", "explanation", "cited", "flags", *scores],
                   "rows": [[x, e.label if e.label is not None else e.target, e.extras.get("text", ""),
                             ", ".join(e.extras.get("cited", [])), ", ".join(e.extras.get("flags", [])),
                             *[_num(v[i]) for v in scores.values()]]
                            for i, (x, e) in enumerate(zip(inputs, explanations))]}
    return {"text": text, "tables": ([means] if scores else []) + [per_example]}


def _num(v: Any) -> float | str:
    v = float(v)
    return round(v, 4) if np.isfinite(v) else "n/a"

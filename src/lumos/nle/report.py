"""NLE results as a section of the HTML report (``lumos.report.render``), beside a bench run or alone."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from .. import __version__
from ..errors import InputError
from ..explanation import Explanations


def section(inputs: Sequence[str], explanations: Explanations, scores: Mapping[str, np.ndarray] | None = None
            ) -> dict[str, Any]:
    """The report payload: the mean of each score, and per example the input, label, explanation text, cited
    words, flags and scores (the generic ``tables`` layout)."""
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


def add_to_report(db: str, run_id: str, inputs: Sequence[str], explanations: Explanations,
                  scores: Mapping[str, np.ndarray] | None = None, title: str = "Natural-language explanations",
                  labels: Sequence[str] | None = None) -> None:
    """Store the section under ``run_id`` in the bench database ``db`` (a new run when it does not exist), so
    ``lumos.report.render(db, run_id)`` draws it after the run's tables."""
    from ..bench.store import Store

    store = Store(db)
    try:
        store.ensure_run(run_id, {"model": "nle", "split": "given", "seed": explanations.seed}, "text",
                         list(labels) if labels is not None else None, __version__)
        store.add_section(run_id, "nle", title, section(inputs, explanations, scores))
    finally:
        store.close()


def _num(v: Any) -> float | str:
    v = float(v)
    return round(v, 4) if np.isfinite(v) else "n/a"

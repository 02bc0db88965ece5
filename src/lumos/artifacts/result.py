"""What every discoverer returns: ``Findings``, a ranked list of ``Candidate`` artifacts with their evidence and
a one-line finding in plain language each."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np
import pandas as pd

from ..results import Result


@dataclass(frozen=True)
class Candidate:
    """One suspected artifact.

    ``key``: the feature it is about ("zorvath", "not bad", "native_country = Atlantis"); ``kind``: "token",
    "ngram", "value", "range" or "slice". ``score``: what the discoverer ranks by (higher: more suspicious).
    ``effect``: the discoverer's effect size (its unit is in ``Findings.params["effect"]``), ``interval`` a
    95% interval of it where there is one, ``p_value`` (corrected for multiple tests) where there is one.
    ``label``: the class the feature points to. ``evidence``: the counts behind it. ``finding``: one sentence.
    """

    key: str
    kind: str
    score: float
    effect: float
    finding: str
    label: str | None = None
    interval: tuple[float, float] | None = None
    p_value: float | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        lo, hi = self.interval if self.interval is not None else (np.nan, np.nan)
        return {"key": self.key, "kind": self.kind, "score": self.score, "effect": self.effect, "effect_lo": lo,
                "effect_hi": hi, "p_value": self.p_value, "label": self.label, **self.evidence,
                "finding": self.finding}


@dataclass
class Findings(Result):
    """Candidates ranked best first (``findings[0]`` is the most suspicious). ``method``: the discoverer;
    ``params``: every resolved setting (what ``effect`` and ``score`` measure included); ``examples``: a
    per-example table where the discoverer has one (data maps, influence). ``lines(k)``: the top findings as
    sentences."""

    method: str
    candidates: list[Candidate]
    params: dict[str, Any]
    examples: pd.DataFrame | None = None

    def __len__(self) -> int:
        return len(self.candidates)

    def __iter__(self) -> Iterator[Candidate]:
        return iter(self.candidates)

    def __getitem__(self, i: int) -> Candidate:
        return self.candidates[i]

    def top(self, k: int = 5) -> list[Candidate]:
        return self.candidates[:k]

    def keys(self, k: int | None = None) -> list[str]:
        return [c.key for c in self.candidates[:k]]

    def rank_of(self, key: str) -> int | None:
        """1-based rank of the candidate ``key`` (None if not among the candidates)."""
        for i, c in enumerate(self.candidates):
            if c.key == key:
                return i + 1
        return None

    def to_frame(self) -> pd.DataFrame:
        """One row per candidate, ranked: key, kind, score, effect (with interval), p_value, label, evidence
        columns, finding."""
        frame = pd.DataFrame([c.as_dict() for c in self.candidates])
        if frame.empty:
            frame = pd.DataFrame(columns=["key", "kind", "score", "effect", "effect_lo", "effect_hi", "p_value",
                                          "label", "finding"])
        frame.insert(0, "rank", np.arange(1, len(frame) + 1))
        return frame

    def summary(self, k: int = 5) -> dict[str, Any]:
        """The discoverer, how many candidates, what it ranks by, and the top ``k`` (key, label, score, effect)."""
        return {"method": self.method, "candidates": len(self), "score": self.params.get("score", "score"),
                "top": [{"key": c.key, "label": c.label, "score": c.score, "effect": c.effect}
                        for c in self.candidates[:k]]}

    def lines(self, k: int = 5) -> list[str]:
        """A heading and the top ``k`` findings, one sentence each."""
        head = f"{self.method}: {len(self)} candidates, ranked by {self.params.get('score', 'score')}"
        found = [f"{i + 1}. {c.finding}" for i, c in enumerate(self.candidates[:k])]
        return [head, *found] if found else [head, "(no candidate passed the filters)"]

    def __repr__(self) -> str:
        first = f"; first: {self.candidates[0].key!r}" if self.candidates else ""
        return f"Findings({self.method!r}, {len(self)} candidates{first})"

"""What an attack returns: one record per sentence and the summary figures (success rate, queries per
success, words changed, success against query budget)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Sequence

import numpy as np
import pandas as pd

from ...results import Result

Status = Literal["succeeded", "failed", "skipped"]


@dataclass
class AdversarialExample:
    """``status``: succeeded (the prediction left ``label``), failed (budget or positions exhausted) or skipped
    (the model already got it wrong). ``queries``: model rows spent on this sentence, the first prediction
    included. ``changed``: indices of the whitespace words that differ."""

    original: str
    perturbed: str
    label: int
    probs_original: list[float]
    probs_perturbed: list[float]
    status: Status
    queries: int
    changed: list[int] = field(default_factory=list)

    @property
    def words_changed(self) -> int:
        return len(self.changed)

    def as_dict(self) -> dict:
        return {"original": self.original, "perturbed": self.perturbed, "label": self.label,
                "probs_original": self.probs_original, "probs_perturbed": self.probs_perturbed,
                "status": self.status, "queries": self.queries, "changed": self.changed}


@dataclass
class AttackResult(Result):
    """``budget``: the most model rows allowed per sentence; ``forward_rows``: every row the model saw during
    the attack, read from its counter (equals the sum of the per-sentence ``queries``)."""

    method: str
    budget: int
    examples: list[AdversarialExample]
    forward_rows: int
    params: dict = field(default_factory=dict)

    @property
    def recipe(self) -> str:
        """Deprecated: ``method``."""
        from ...deprecation import warn

        warn("AttackResult.recipe", "AttackResult.method")
        return self.method

    def _where(self, status: Status) -> list[AdversarialExample]:
        return [e for e in self.examples if e.status == status]

    @property
    def attacked(self) -> int:
        return len(self.examples) - len(self._where("skipped"))

    @property
    def success_rate(self) -> float:
        """Successes over attacked sentences (skipped ones excluded, as TextAttack counts)."""
        return len(self._where("succeeded")) / self.attacked if self.attacked else float("nan")

    @property
    def queries_per_success(self) -> float:
        wins = self._where("succeeded")
        return float(np.mean([e.queries for e in wins])) if wins else float("nan")

    @property
    def words_changed(self) -> float:
        """Mean number of words changed in the successful examples."""
        wins = self._where("succeeded")
        return float(np.mean([e.words_changed for e in wins])) if wins else float("nan")

    def success_curve(self, budgets: Sequence[int]) -> list[float]:
        """Success rate had the budget been each of ``budgets``: the successes that needed at most that many
        queries. The search does not depend on the budget, so this is what a smaller budget would give, or a
        little less when a cut round would still have held the winning candidate."""
        q = np.array([e.queries for e in self._where("succeeded")])
        return [float((q <= b).sum() / self.attacked) if self.attacked else float("nan") for b in budgets]

    def to_frame(self) -> pd.DataFrame:
        """One row per sentence: original, perturbed, label, status, queries, words changed."""
        return pd.DataFrame([e.as_dict() for e in self.examples])

    def summary(self) -> dict:
        return {"method": self.method, "budget": self.budget, "attacked": self.attacked,
                "skipped": len(self._where("skipped")), "success_rate": self.success_rate,
                "queries_per_success": self.queries_per_success, "words_changed": self.words_changed,
                "forward_rows": self.forward_rows}

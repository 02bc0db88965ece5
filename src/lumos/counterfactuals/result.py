"""CounterfactualSet: what one counterfactual query returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..results import Result


@dataclass(frozen=True)
class CounterfactualSet(Result):
    """``original``: the query row (1-row DataFrame). ``counterfactuals``: (n, F) DataFrame in the user's
    columns and values (fewer than asked or empty: ``reason`` says why). ``changed``: bool
    DataFrame of the same shape, True where a cell differs from the original. ``predictions``: the model's
    output on each counterfactual ((n, K) probabilities, or (n,) values for a regressor); ``original_prediction``
    the same for the query. ``desired``: the desired class label or range. ``metrics``: see
    ``lumos.counterfactuals.metrics``. ``params``: every resolved setting, the seed included."""

    original: pd.DataFrame
    counterfactuals: pd.DataFrame
    changed: pd.DataFrame
    predictions: np.ndarray
    original_prediction: np.ndarray
    desired: str
    method: str
    metrics: dict[str, float]
    params: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None

    def __len__(self) -> int:
        return len(self.counterfactuals)

    @property
    def seconds(self) -> float:
        return self.metrics["seconds"]

    def changes(self) -> list[dict[str, tuple[Any, Any]]]:
        """Per counterfactual: feature -> (original value, new value), changed features only."""
        out = []
        for i in range(len(self)):
            row = self.changed.iloc[i]
            out.append({f: (self.original[f].iloc[0], self.counterfactuals[f].iloc[i]) for f in row.index[row]})
        return out

    def summary(self) -> dict[str, Any]:
        """How many were found, for which outcome, and their metrics."""
        return {"found": len(self), "target": self.desired, "method": self.method, "reason": self.reason,
                **self.metrics}

    def to_frame(self, marker: str = "*") -> pd.DataFrame:
        """Before/after as strings: one row per feature, columns "original", "cf 1", ...; each changed cell is
        suffixed with ``marker``."""
        frame = pd.concat([self.original, self.counterfactuals], ignore_index=True).astype(str)
        marks = np.vstack([np.zeros((1, self.changed.shape[1]), dtype=bool), self.changed.to_numpy(dtype=bool)])
        frame = frame.where(~marks, frame + marker)
        frame.index = ["original"] + [f"cf {i + 1}" for i in range(len(self))]
        return frame.T

    def __repr__(self) -> str:
        head = f"CounterfactualSet({len(self)} counterfactuals to {self.desired!r} by {self.method}"
        return head + (f"; {self.reason})" if self.reason else ")")

"""The Influence result: scores (n_test, n_train), self-influence, and the top proponents/opponents with inputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

import numpy as np

from ..errors import InputError
from ..results import Result


@dataclass(frozen=True)
class Example:
    """One training example as an answer: its index in the training set, its score, input and label."""

    index: int
    score: float
    input: Any
    label: Any


def _row(inputs: Any, i: int) -> Any:
    return inputs.iloc[i] if hasattr(inputs, "iloc") else inputs[i]


@dataclass
class Influence(Result):
    """``scores[i, j]``: the predicted change of test example i's loss when training example j is removed
    (positive: j is a proponent that lowered i's loss; negative: an opponent). Similarity methods (grad_dot,
    grad_cos, tracin) keep that sign but are not in loss units.

    ``self_influence[j]``: the same quantity for j's own loss (high for atypical or mislabelled examples);
    None for grad_cos. ``params``: every resolved setting, ``parameters``: the names of the parameters used.
    """

    scores: np.ndarray
    self_influence: np.ndarray | None
    method: str
    params: dict[str, Any]
    parameters: list[str]
    train_inputs: Any = field(repr=False)
    train_labels: Any = field(repr=False)

    def to_frame(self) -> "pd.DataFrame":
        """The scores as a (n_test, n_train) DataFrame: one row per test example, one column per training one."""
        import pandas as pd

        return pd.DataFrame(self.scores, index=pd.RangeIndex(len(self.scores), name="test"),
                            columns=pd.RangeIndex(self.scores.shape[1], name="train"))

    def summary(self) -> dict[str, Any]:
        """The method, the sizes, and per test example its top proponent and opponent (training indices)."""
        return {"method": self.method, "n_test": int(self.scores.shape[0]), "n_train": int(self.scores.shape[1]),
                "top_proponent": self.scores.argmax(1).tolist(), "top_opponent": self.scores.argmin(1).tolist()}

    def _check(self, test_index: int) -> None:
        if not 0 <= test_index < len(self.scores):
            raise InputError(f"test_index {test_index} is out of range for {len(self.scores)} test examples.")

    def _examples(self, order: np.ndarray, row: np.ndarray) -> list[Example]:
        return [Example(int(j), float(row[j]), _row(self.train_inputs, int(j)), _row(self.train_labels, int(j)))
                for j in order]

    def proponents(self, test_index: int, k: int = 5) -> list[Example]:
        """The k training examples whose removal would raise this test loss most (highest scores first)."""
        self._check(test_index)
        row = self.scores[test_index]
        return self._examples(np.argsort(-row, kind="stable")[:k], row)

    def opponents(self, test_index: int, k: int = 5) -> list[Example]:
        """The k training examples whose removal would lower this test loss most (lowest scores first)."""
        self._check(test_index)
        row = self.scores[test_index]
        return self._examples(np.argsort(row, kind="stable")[:k], row)

    def most_self_influential(self, k: int = 10) -> list[Example]:
        """The k training examples with the highest self-influence (candidates for label errors)."""
        if self.self_influence is None:
            raise InputError(f"{self.method} gives no self-influence; use method='exact', 'ekfac' or 'tracin'.")
        return self._examples(np.argsort(-self.self_influence, kind="stable")[:k], self.self_influence)

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

    def _repr_html_(self, examples: int = 3, k: int = 3) -> str:
        """Notebook view: for the first test examples, the top proponents and opponents with their inputs."""
        from ..viz import table_html

        rows = []
        for i in range(min(examples, len(self.scores))):  # a proponent has a positive score, an opponent negative
            rows += [[i, "proponent", e.index, e.score, _short(e.input), str(e.label)]
                     for e in self.proponents(i, k) if e.score > 0]
            rows += [[i, "opponent", e.index, e.score, _short(e.input), str(e.label)]
                     for e in self.opponents(i, k) if e.score < 0]
        n_test, n_train = self.scores.shape
        note = (f"{self.method} on {n_test} test x {n_train} training examples. A proponent's removal would raise "
                "the test loss (it helped); an opponent's would lower it."
                + (" Similarity scores, not in loss units." if self.method in ("grad_dot", "grad_cos", "tracin")
                   else ""))
        return table_html(["test example", "kind", "training example", "score", "input", "label"], rows,
                          caption=f"Influence ({self.method})", note=note)

    def most_self_influential(self, k: int = 10) -> list[Example]:
        """The k training examples with the highest self-influence (candidates for label errors)."""
        if self.self_influence is None:
            raise InputError(f"{self.method} gives no self-influence; use method='exact', 'ekfac' or 'tracin'.")
        return self._examples(np.argsort(-self.self_influence, kind="stable")[:k], self.self_influence)


def _short(value: Any, limit: int = 80) -> str:
    """An input as a short line: text cut to ``limit`` characters, arrays by their shape."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit - 1] + "…"
    shape = getattr(value, "shape", None)
    if shape is not None and len(shape) > 1:
        return f"array {tuple(shape)}"
    text = ", ".join(f"{v:.3g}" if isinstance(v, float) else str(v) for v in list(np.asarray(value).ravel())[:8])
    return text if len(text) <= limit else text[:limit - 1] + "…"

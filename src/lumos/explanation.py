"""The result records: one ``Explanation`` per example, ``Explanations`` for a batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import numpy as np


def feature_vector(attributions: np.ndarray) -> np.ndarray:
    """Attributions of any method's shape -> one float64 score per feature (images: channels summed, flattened)."""
    a = np.asarray(attributions, dtype=np.float64)
    return a.sum(axis=0).ravel() if a.ndim == 3 else a.ravel()


@dataclass
class Explanation:
    """Attributions for one example.

    ``attributions``: float32; text and tables (F,) one score per feature; images (C, H, W) or (1, H, W).
    ``features``: the words/tokens (text), column names (tables) or None (images).
    ``probs``: (K,) the model's probabilities on the unperturbed input.
    """

    attributions: np.ndarray
    features: list[str] | None
    target: int
    probs: np.ndarray
    method: str
    params: dict[str, Any]
    extras: dict[str, Any] = field(default_factory=dict)
    label: str | None = None

    def feature_scores(self) -> np.ndarray:
        """One float64 score per feature: text and tables (F,) the attributions; images the map summed over
        channels and flattened (H * W,), whatever the method's shape ((C, H, W) or (1, H, W))."""
        return feature_vector(self.attributions)

    def top(self, k: int = 5) -> list[tuple[str | int, float]]:
        """The ``k`` features with the largest attribution (text and tables), as (feature, score) pairs."""
        flat = self.attributions.reshape(-1)
        order = np.argsort(-flat, kind="stable")[:k]
        names = self.features if self.features is not None else [int(i) for i in range(flat.size)]
        return [(names[i], float(flat[i])) for i in order]

    def _repr_html_(self) -> str:
        """Notebook view: shaded words (text), signed bars (tables) or the signed map (images)."""
        from html import escape

        from .viz import bars_view, image_view, legend, text_view

        label = escape(self.label if self.label is not None else str(self.target))
        head = f"<p><b>{escape(self.method)}</b> · explaining {label} (p = {self.probs[self.target]:.2f})</p>"
        if self.attributions.ndim == 3:
            blank = np.zeros((1,) + self.attributions.shape[1:], dtype=np.float32)
            return head + image_view(blank, self.attributions, self.method)
        if self.features is not None and self.params.get("granularity") is not None:
            return head + text_view(self.features, self.attributions) + legend()
        return head + bars_view(self.features or [str(i) for i in range(self.attributions.size)], self.attributions)

    def __repr__(self) -> str:
        head = f"Explanation(method={self.method!r}, target={self.target}"
        if self.label is not None:
            head += f" ({self.label})"
        head += f", p={self.probs[self.target]:.3f}"
        if self.features is not None:
            shown = ", ".join(f"{w}:{a:+.3f}" for w, a in zip(self.features[:12], self.attributions[:12]))
            more = ", ..." if len(self.features) > 12 else ""
            return f"{head}, [{shown}{more}])"
        return f"{head}, attributions shape={tuple(self.attributions.shape)})"


class Explanations(Sequence[Explanation]):
    """A batch of explanations: indexable, iterable, and stackable when shapes agree."""

    def __init__(self, items: list[Explanation], explainer: Any = None, granularity: str = "word", seed: int = 0):
        self._items = list(items)
        self.explainer = explainer  # the method object that made them, to re-run it on perturbed inputs/models
        self.granularity = granularity
        self.seed = seed

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return Explanations(self._items[i], self.explainer, self.granularity, self.seed)
        return self._items[i]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Explanation]:
        return iter(self._items)

    @property
    def method(self) -> str | None:
        return self._items[0].method if self._items else None

    @property
    def params(self) -> dict[str, Any]:
        """The method's resolved hyper-parameters, the seed included (the same for every example)."""
        return dict(self._items[0].params) if self._items else {"seed": self.seed}

    def to_frame(self):
        """One row per example: method, target, label, its probability, and the top features (text, tables)."""
        import pandas as pd

        rows = []
        for i, e in enumerate(self._items):
            rows.append({"example": i, "method": e.method, "target": e.target, "label": e.label,
                         "probability": float(e.probs[e.target]),
                         "top": [f for f, _ in e.top(3)] if e.features is not None else None,
                         "attribution_sum": float(e.attributions.sum())})
        return pd.DataFrame(rows)

    def summary(self) -> dict[str, Any]:
        """The method, how many examples, and how many explanations are all zero or constant."""
        flat = [e.feature_scores() for e in self._items]
        return {"method": self.method, "n": len(self), "degenerate": int(sum(np.ptp(f) == 0 for f in flat if f.size))}

    @property
    def targets(self) -> np.ndarray:
        return np.array([e.target for e in self._items], dtype=np.int64)

    def attributions(self) -> np.ndarray | list[np.ndarray]:
        """(B, ...) when every example has the same shape (images, tables), else a list (text)."""
        arrays = [e.attributions for e in self._items]
        if arrays and all(a.shape == arrays[0].shape for a in arrays):
            return np.stack(arrays)
        return arrays

    def _repr_html_(self) -> str:
        return "".join(e._repr_html_() for e in self._items[:10])

    def __repr__(self) -> str:
        return f"Explanations(method={self.method!r}, n={len(self)})"

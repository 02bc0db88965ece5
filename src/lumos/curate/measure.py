"""Before/after measurements of a model on the same splits: clean test accuracy and calibration, accuracy on the
contrast split (the artifact attached to the other labels) against the same rows without it, worst-group
accuracy over (artifact present or not) x label, and the share of attribution mass on the artifact."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..artifacts.features import sample_rows, word_key
from ..artifacts.data import Labelled
from ..artifacts.edits import Edit, ValueEdit
from ..robustness.slices import ece


@dataclass
class Measurement:
    """``clean_accuracy``, ``clean_ece``: on the untouched test split. ``contrast_accuracy``: on the contrast
    split; ``reference_accuracy``: on the same test rows without the artifact; ``gap`` = reference - contrast
    (the model's reliance on the artifact). ``groups``: (artifact present/absent, label) -> (accuracy, n) over
    the test split plus its copies carrying the artifact; ``worst_group_accuracy`` the lowest.
    ``artifact_mass``: mean share of |attribution| on the artifact over rows that carry it (NaN if not
    measured)."""

    clean_accuracy: float
    clean_ece: float
    contrast_accuracy: float
    reference_accuracy: float
    worst_group_accuracy: float
    artifact_mass: float
    groups: dict[str, tuple[float, int]] = field(default_factory=dict)

    @property
    def gap(self) -> float:
        return self.reference_accuracy - self.contrast_accuracy

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("groups")
        return {**out, "gap": self.gap}


def _accuracy(model: Any, data: Labelled, inputs: Any = None) -> tuple[np.ndarray, np.ndarray]:
    probs = model.predict_proba(data.inputs() if inputs is None else inputs)
    return probs, probs.argmax(1) == data.y


def artifact_mass(model: Any, rows: Labelled, edit: Edit, method: str, n: int | None, seed: int,
                  background: pd.DataFrame | None = None) -> float:
    """Mean over ``n`` sampled rows (which carry the artifact) of |attribution on it| / sum |attribution|,
    explaining each row's predicted class."""
    from ..api import explain

    picked = rows.frame.iloc[sample_rows(len(rows.frame), n, seed)]
    if rows.is_text:
        expl = explain(model, picked[rows.text_column].tolist(), method=method, seed=seed)
        hits = [np.array([word_key(w) == edit.key for w in e.features]) for e in expl]
    else:
        params = {"background": background} if background is not None else {}
        expl = explain(model, picked[list(rows.columns)], method=method, seed=seed, **params)
        column = edit.column if isinstance(edit, ValueEdit) else None
        hits = [np.array([f == column for f in e.features]) for e in expl]
    shares = []
    for e, hit in zip(expl, hits):
        a = np.abs(np.asarray(e.attributions, dtype=np.float64).reshape(-1))
        if a.sum() > 0:
            shares.append(a[hit].sum() / a.sum())
    return float(np.mean(shares)) if shares else float("nan")


def measure(model: Any, test: Labelled, contrast: Labelled, aligned: Labelled, edit: Edit, label: int, *,
            attribution_method: str | None = "occlusion", attribution_rows: int | None = 200, seed: int = 0,
            background: pd.DataFrame | None = None) -> Measurement:
    """All the measurements of ``model`` (see ``Measurement``). ``contrast``: test rows whose label is not
    ``label``, with the artifact attached; ``aligned``: those with ``label``, attached."""
    probs, hit = _accuracy(model, test)
    _, contrast_hit = _accuracy(model, contrast)
    _, aligned_hit = _accuracy(model, aligned)
    carrying = edit.present(test.frame)
    reference = hit[(test.y != label) & ~carrying]
    groups: dict[str, tuple[float, int]] = {}
    for k, name in enumerate(test.labels):
        parts = {"absent": hit[~carrying & (test.y == k)],
                 "present": np.concatenate([hit[carrying & (test.y == k)], contrast_hit[contrast.y == k],
                                            aligned_hit[aligned.y == k]])}
        for where, values in parts.items():
            if len(values):
                groups[f"{where}, {name}"] = (float(values.mean()), int(len(values)))
    mass = float("nan")
    if attribution_method is not None:
        both = Labelled(pd.concat([contrast.frame, aligned.frame], ignore_index=True),
                        np.concatenate([contrast.y, aligned.y]), test.labels, test.label_column, test.text_column,
                        test.columns)
        mass = artifact_mass(model, both, edit, attribution_method, attribution_rows, seed, background)
    return Measurement(float(hit.mean()), ece(probs, test.y), float(contrast_hit.mean()) if len(contrast_hit) else
                       float("nan"), float(reference.mean()) if len(reference) else float("nan"),
                       min(a for a, _ in groups.values()), mass, groups)

"""Weak supervision as a repair: relabel the training split with labeling functions and a label model
(``lumos.weak``) that never see the artifact, so the new labels cannot depend on it; the model is retrained on
the label model's probabilistic labels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ...artifacts.edits import edit_for
from ...errors import InputError
from ...weak import apply_lfs, label, lf_summary
from ...weak.sentiment import CLASSES as SENTIMENT_CLASSES
from ...weak.sentiment import sentiment_lfs
from ...params import Anything, Bool, Choice, Int, Mapping, Optional, Registered, param
from ..base import Declared, RepairContext, Repaired, changes_frame, register


@register("weak_labels")
@dataclass
class WeakRelabel(Declared):
    """``lfs``: labeling functions (``lumos.weak``; None: ``weak.sentiment_lfs()`` for texts labelled negative /
    positive). ``method``: the label model (``lumos.catalog("label_model")``), ``label_params`` its
    hyper-parameters. ``abstain``: rows no LF votes on are left out ("drop") or kept with the class balance
    ("prior") or 1/K ("uniform"). ``hide_artifact``: every LF sees the rows with the artifact removed (the
    context's artifact or top finding; without one, the rows as they are), so no LF can fire on it. The given
    labels never reach an LF or the label model (they are only compared with the new ones afterwards); the new
    split keeps the original rows, its label column holds the most probable class, and ``label_probs`` the
    label model's (N, K) probabilities."""

    summary = "Weak supervision: relabel with labeling functions and a label model that never see the artifact."
    modalities = ("text", "tabular")

    lfs: Sequence[Any] | None = param(None, Anything())
    method: str = param("dawid_skene", Registered("label_model"))
    abstain: str = param("drop", Choice("prior", "uniform", "drop"))
    hide_artifact: bool = param(True, Bool())
    label_params: dict | None = param(None, Optional(Mapping()))
    batch_size: int = param(256, Int(low=1))

    def __call__(self, train: pd.DataFrame, context: RepairContext) -> Repaired:
        d = context.data(train)
        lfs = list(self.lfs) if self.lfs is not None else _default_lfs(d.labels, d.text_column)
        shown = d.frame.drop(columns=[d.label_column]).reset_index(drop=True)
        hidden, hidden_rows = None, 0
        if self.hide_artifact and (context.artifact is not None or (context.findings is not None
                                                                   and len(context.findings))):
            key, kind = context.target()
            edit = edit_for(key, kind, d)
            present = edit.present(shown)
            shown = edit.remove(shown, present, np.random.default_rng(context.seed))
            hidden, hidden_rows = key, int(present.sum())
        L = apply_lfs(lfs, shown, d.labels, batch_size=self.batch_size)
        weak = label(L, method=self.method, seed=context.seed, abstain=self.abstain, **(self.label_params or {}))
        keep, new_y = weak.keep, weak.probs.argmax(1)
        rows = []
        kept_rows = np.flatnonzero(keep)
        for new_row, i in enumerate(kept_rows):
            if new_y[i] != d.y[i]:
                rows.append({"change": "relabelled", "row": int(i), "new_row": new_row, "label": int(d.y[i]),
                             "new_label": int(new_y[i]), "weight": 1.0,
                             "detail": f"p({d.label_name(int(new_y[i]))}) = {weak.probs[i].max():.2f}"})
        for i in np.flatnonzero(~keep):
            rows.append({"change": "removed", "row": int(i), "new_row": pd.NA, "label": int(d.y[i]),
                         "new_label": pd.NA, "weight": 0.0, "detail": "no labeling function votes"})
        new = train.reset_index(drop=True).iloc[kept_rows].reset_index(drop=True)
        new[d.label_column] = new_y[kept_rows].astype(np.int64)
        table = lf_summary(L, labels=d.y, weak=weak)
        params = {"method": self.method, "abstain": self.abstain, "lfs": list(L.lf_names), "hidden": hidden,
                  "hidden_rows": hidden_rows, "covered": float(weak.covered.mean()), "kept": int(keep.sum()),
                  "agreement_with_given_labels": float(np.mean(new_y[keep] == d.y[keep])) if keep.any() else 0.0,
                  "lf_table": _plain(table), "label_model": _plain(weak.params), "seed": context.seed}
        return Repaired(new, None, weak.probs[keep], changes_frame(rows), "weak_labels", params)


def _default_lfs(labels: tuple[str, ...], text_column: str | None) -> list:
    if text_column is None or tuple(labels) != SENTIMENT_CLASSES:
        raise InputError(f"weak_labels has ready-made labeling functions only for texts labelled "
                         f"{SENTIMENT_CLASSES}; these data are {'texts' if text_column else 'a table'} labelled "
                         f"{tuple(labels)}. Pass lfs=[...] (lumos.weak.keyword_lf, regex_lf, model_lf, "
                         f"@weak.labeling_function, ...).")
    return sentiment_lfs(column=text_column)


def _plain(value: Any) -> Any:
    """A frame or dict as JSON-ready values (records; numpy scalars as Python numbers, NaN as None)."""
    if isinstance(value, pd.DataFrame):
        return [_plain(r) for r in value.to_dict("records")]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value

"""Counterfactual augmentation (c) for tables: for rows that carry the artifact with its own label,
``lumos.counterfactuals`` finds nearby rows the model gives the other label while the artifact's column is held
fixed; those that the model still calls the other label once the artifact value is taken out are added with
that label, so the artifact value no longer decides."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...artifacts.edits import ValueEdit, edit_for
from ...errors import InputError
from ...models import wrap
from ...params import Int, Registered, param
from ..base import Declared, RepairContext, Repaired, changes_frame, register


@register("table_counterfactuals")
@dataclass
class TableCounterfactuals(Declared):
    """``n``: carriers of the artifact's own label to start from; ``method``, ``budget``: the counterfactual
    search (``lumos.counterfactuals``); one counterfactual per row."""

    summary = "Counterfactual rows that keep the artifact and take the other label (lumos.counterfactuals)."
    modalities = ("tabular",)

    n: int = param(200, Int(low=1))
    method: str = param("genetic", Registered("counterfactual"))
    budget: int = param(2000, Int(low=1))

    def __call__(self, train: pd.DataFrame, context: RepairContext) -> Repaired:
        from ...counterfactuals import CounterfactualExplainer

        d = context.data(train)
        if d.is_text:
            raise InputError("table_counterfactuals works on tables; for text use 'augment' or 'llm_flip'.")
        if context.model is None:
            raise InputError("table_counterfactuals needs the model: RepairContext(model=...).")
        key, kind = context.target()
        edit = edit_for(key, kind, d)
        if not isinstance(edit, ValueEdit):
            raise InputError(f"table_counterfactuals repairs a column value artifact; got {key!r} ({kind}).")
        model = wrap(context.model)
        present = edit.present(train)
        label = int(np.bincount(d.y[present], minlength=len(d.labels)).argmax())
        target = 1 - label if len(d.labels) == 2 else None
        if target is None:
            raise InputError("table_counterfactuals handles two classes.")
        rng = np.random.default_rng(context.seed)
        own = np.flatnonzero(present & (d.y == label))
        picked = np.sort(rng.choice(own, size=min(self.n, len(own)), replace=False))
        features = d.frame[list(d.columns)].reset_index(drop=True)
        explainer = CounterfactualExplainer(model, features)
        found, sources = [], []
        for i in picked:
            cfs = explainer.explain(features.iloc[[i]], target=target, n=1, method=self.method,
                                    constraints={"immutable": [edit.column]}, seed=context.seed, budget=self.budget)
            if len(cfs):
                found.append(cfs.counterfactuals.iloc[[0]])
                sources.append(int(i))
        if found:
            candidates = pd.concat(found, ignore_index=True)[list(d.columns)]
            masked = edit.remove(candidates, np.ones(len(candidates), bool), rng)
            keep = model.predict_proba(masked).argmax(1) == target
        else:
            candidates, keep = features.iloc[:0], np.zeros(0, bool)
        added = candidates[keep].copy()
        added[d.label_column] = target
        source = train.reset_index(drop=True)
        new = pd.concat([source, added[source.columns]], ignore_index=True)
        kept_sources = np.asarray(sources)[keep] if len(sources) else []
        rows = [{"change": "added", "row": int(r), "new_row": len(source) + j, "label": label, "new_label": target,
                 "weight": 1.0, "detail": "counterfactual with the artifact kept"} for j, r in enumerate(kept_sources)]
        params = {"artifact": key, "label": d.label_name(label), "target": d.label_name(target),
                  "method": self.method, "budget": self.budget, "asked": int(len(picked)), "found": len(sources),
                  "kept": int(keep.sum()), "seed": context.seed}
        return Repaired(new, None, None, changes_frame(rows), "table_counterfactuals", params)

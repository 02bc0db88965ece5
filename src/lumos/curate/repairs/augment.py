"""Counterfactual augmentation (a): copies of training examples with the artifact attached to examples of the
other labels and removed from some of its own, labels kept, so the artifact no longer tells the labels apart."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...artifacts.edits import edit_for
from ...errors import InputError
from ...params import Float, Optional, param
from ..base import Declared, RepairContext, Repaired, changes_frame, register


@register("augment")
@dataclass
class Augment(Declared):
    """``target_share``: p(its label | artifact) to reach by attaching the artifact to copies of other-label
    examples (None: the label's share of the whole split, i.e. no link left). ``remove_share``: the share of
    the artifact's own-label examples that also get a copy without it."""

    summary = "Counterfactual augmentation: copies with the artifact attached to other labels and removed from its own."
    modalities = ("text", "tabular")

    target_share: float | None = param(None, Optional(Float(0, 1)))
    remove_share: float = param(1.0, Float(0, 1))

    def __call__(self, train: pd.DataFrame, context: RepairContext) -> Repaired:
        if not 0 <= self.remove_share <= 1:
            raise InputError(f"remove_share must lie in [0, 1]; got {self.remove_share}.")
        d = context.data(train)
        key, kind = context.target()
        edit = edit_for(key, kind, d)
        present = edit.present(train)
        if not present.any():
            raise InputError(f"the artifact {key!r} occurs in no training row; nothing to augment.")
        label = int(np.bincount(d.y[present], minlength=len(d.labels)).argmax())
        own, others = present & (d.y == label), present & (d.y != label)
        target = float(np.mean(d.y == label)) if self.target_share is None else float(self.target_share)
        if not 0 < target <= 1:
            raise InputError(f"target_share must lie in (0, 1]; got {self.target_share}.")
        rng = np.random.default_rng(context.seed)
        pool = np.flatnonzero(~present & (d.y != label))
        n_attach = min(len(pool), max(0, math.ceil(own.sum() / target - own.sum() - others.sum())))
        attach_rows = np.sort(rng.choice(pool, size=n_attach, replace=False))
        remove_rows = np.sort(rng.choice(np.flatnonzero(own), size=int(round(self.remove_share * own.sum())),
                                         replace=False))
        source = train.reset_index(drop=True)
        attached = edit.attach(source.iloc[attach_rows].reset_index(drop=True), np.ones(n_attach, bool), rng)
        removed = edit.remove(source.iloc[remove_rows].reset_index(drop=True), np.ones(len(remove_rows), bool), rng)
        new = pd.concat([source, attached, removed], ignore_index=True)
        rows, start = [], len(source)
        for what, picked in (("attached", attach_rows), ("removed", remove_rows)):
            for i, r in enumerate(picked):
                y = int(d.y[r])
                rows.append({"change": "added", "row": int(r), "new_row": start + i, "label": y, "new_label": y,
                             "weight": 1.0, "detail": f"copy with {key!r} {what}"})
            start += len(picked)
        params = {"artifact": key, "kind": kind, "label": d.label_name(label), "target_share": target,
                  "remove_share": self.remove_share, "attached": int(n_attach), "removed": int(len(remove_rows)),
                  "seed": context.seed}
        return Repaired(new, None, None, changes_frame(rows), "augment", params)

"""Group-balanced weighting: every group (by default: artifact present or not x label) gets the same total
weight."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...artifacts.edits import edit_for
from ...errors import InputError
from ..base import Declared, RepairContext, Repaired, changes_frame, register


@register("group_balance")
@dataclass
class GroupBalance(Declared):
    """Weight of a row in group g: N / (G * n_g). Groups: ``context.groups`` when given, else the artifact's
    presence crossed with the label."""

    summary = "Equal total weight per group (artifact present x label, or the given groups)."
    modalities = ("text", "tabular")

    def __call__(self, train: pd.DataFrame, context: RepairContext) -> Repaired:
        d = context.data(train)
        if context.groups is not None:
            groups = np.asarray(context.groups)
            if groups.shape != (len(train),):
                raise InputError(f"groups must have one id per training row ({len(train)},); got {groups.shape}.")
            what = "the given groups"
        else:
            key, kind = context.target()
            present = edit_for(key, kind, d).present(train)
            groups = np.array([f"{key!r} {'present' if p else 'absent'}, {d.label_name(int(y))}"
                               for p, y in zip(present, d.y)])
            what = f"{key!r} present x label"
        names, index, sizes = np.unique(groups, return_inverse=True, return_counts=True)
        weight = len(train) / (len(names) * sizes[index])
        rows = [{"change": "reweighted", "row": int(i), "new_row": int(i), "label": int(d.y[i]),
                 "new_label": int(d.y[i]), "weight": float(weight[i]), "detail": str(groups[i])}
                for i in range(len(train)) if not np.isclose(weight[i], 1.0)]
        params = {"groups": what, "sizes": {str(n): int(s) for n, s in zip(names, sizes)}}
        return Repaired(train.reset_index(drop=True), weight, None, changes_frame(rows), "group_balance", params)

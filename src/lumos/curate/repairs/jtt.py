"""Just Train Twice (Liu et al. 2021): upweight the training examples a first model gets wrong."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...errors import InputError
from ...models import wrap
from ...params import Float, param
from ..base import Declared, RepairContext, Repaired, changes_frame, register


@register("jtt")
@dataclass
class JTT(Declared):
    """Rows that ``context.model`` (the first model, trained on the split) misclassifies get weight
    ``upweight``; the rest 1."""

    summary = "Just Train Twice: upweight the rows a first model gets wrong."
    modalities = ("text", "tabular")

    upweight: float = param(5.0, Float(low=0, low_open=True))

    def __call__(self, train: pd.DataFrame, context: RepairContext) -> Repaired:
        if context.model is None:
            raise InputError("JTT needs the first model: RepairContext(model=...) trained on this split.")
        if self.upweight <= 0:
            raise InputError(f"upweight must be > 0; got {self.upweight}.")
        d = context.data(train)
        wrong = wrap(context.model).predict_proba(d.inputs()).argmax(1) != d.y
        weight = np.where(wrong, float(self.upweight), 1.0)
        rows = [{"change": "reweighted", "row": int(i), "new_row": int(i), "label": int(d.y[i]),
                 "new_label": int(d.y[i]), "weight": float(self.upweight), "detail": "misclassified by the first model"}
                for i in np.flatnonzero(wrong)]
        params = {"upweight": float(self.upweight), "error_set": int(wrong.sum())}
        return Repaired(train.reset_index(drop=True), weight, None, changes_frame(rows), "jtt", params)

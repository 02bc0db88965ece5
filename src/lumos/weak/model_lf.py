"""An LF that asks a classifier: any lumos model's probabilities, above a margin."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from .lf import LabelingFunction, texts_of
from .matrix import ABSTAIN


def model_lf(model: Any, *, margin: float = 0.2, classes: Sequence[Any] | None = None, name: str = "model",
             column: str = "text") -> LabelingFunction:
    """Votes the class ``model`` finds most probable when it leads the runner-up by at least ``margin``
    (0..1), else abstains. ``model``: anything ``lumos.wrap`` takes (text models get ``column`` of a row;
    table models the rows). ``classes``: the vote for each of the model's classes (default: its index).
    Batched: each batch is one ``predict_proba`` call."""
    from ..models import wrap

    wrapped = wrap(model)
    if not 0 <= margin < 1:
        raise InputError(f"margin must be in [0, 1); got {margin}.")

    def votes(batch: Any) -> list[Any]:
        if "text" in wrapped.modalities:
            inputs: Any = texts_of(batch, column)
        else:
            inputs = batch if isinstance(batch, pd.DataFrame) else pd.DataFrame(list(batch))
        probs = wrapped.predict_proba(inputs)
        top2 = np.sort(probs, axis=1)[:, -2:]
        best = probs.argmax(1)
        if classes is not None and len(classes) != probs.shape[1]:
            raise InputError(f"classes has {len(classes)} entries but the model gives {probs.shape[1]} classes.")
        vote = [classes[k] if classes is not None else int(k) for k in best]
        return [v if (t[1] - t[0]) >= margin else ABSTAIN for v, t in zip(vote, top2)]

    return LabelingFunction(name, votes, True, "model", {"model": type(wrapped).__name__, "margin": margin})

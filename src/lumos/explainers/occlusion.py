"""Occlusion (Zeiler & Fergus 2014) and leave-one-out.

Text and tables: attr_j = p(y|x) - p(y|x without feature j) (a word deleted, a column set to the background).
Images: a window slides over the image; each pixel gets the mean drop of the windows that cover it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..features.masking import leave_one_out
from ..registry import register
from .base import Attribution
from ..params import AnyOf, Int, Numbers, Optional, param
from .perturbation_base import PerturbationExplainer, target_outputs, to_output_shape


@register("occlusion")
@dataclass(frozen=True)
class Occlusion(PerturbationExplainer):
    """Images: ``window`` and ``stride`` in pixels (default: an eighth of the shorter side, half of it)."""

    summary = "Drop in the target probability when each word, column or image window is removed."
    plain = "How much the prediction falls when each word, column or image window is removed."
    misleads = ("Misses features that matter only together (redundant evidence); inputs with a part removed are "
                "unlike the training data.")
    window: int | tuple[int, int] | None = param(None, Optional(AnyOf(Int(low=1), Numbers(low=1, length=2,
                                                                                           integers=True))))
    stride: int | tuple[int, int] | None = param(None, Optional(AnyOf(Int(low=1), Numbers(low=1, length=2,
                                                                                           integers=True))))

    def attribute(self, model, batch, targets, probs, seed):
        windows = self._windows(batch) if batch.modality == "image" else None
        items = self.items(model, batch, seed, windows=windows)
        masks = [leave_one_out(it.n_features) for it in items]  # made chunk by chunk: memory stays bounded
        outs = target_outputs(model, items, masks, targets)
        full = probs[np.arange(len(targets)), targets]
        return [Attribution(to_output_shape(it, full[i] - o), {"n_evaluations": it.n_features})
                for i, (it, o) in enumerate(zip(items, outs))]

    def _windows(self, batch) -> tuple[tuple[int, int], tuple[int, int]]:
        h, w = batch.x.shape[2:]
        pair = lambda v: (int(v), int(v)) if np.isscalar(v) else (int(v[0]), int(v[1]))  # noqa: E731
        window = pair(self.window) if self.window is not None else pair(max(1, min(h, w) // 8))
        stride = pair(self.stride) if self.stride is not None else (max(1, window[0] // 2), max(1, window[1] // 2))
        if min(window) < 1 or min(stride) < 1:
            raise InputError(f"occlusion window and stride must be >= 1; got {window}, {stride}.")
        return window, stride

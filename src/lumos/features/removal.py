"""Per-example removable features for a batch, whatever the modality: one place decides what
"remove feature j" means, for every perturbation explainer and every removal metric."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from ..params import AnyOf, Array, Choice, Float, Optional, Table
from .image import ImagePerturbation, grid_labels, image_baseline, superpixel_labels, window_boxes
from .tabular import TabularPerturbation, tabular_background
from .text import TextPerturbation

TEXT_REMOVALS = ("delete", "mask", "pad")
# what a removed feature becomes, as a hyper-parameter: a named strategy (which names apply depends on the
# modality, checked where it is used), a number, or an array; None: the modality's default
BASELINE = Optional(AnyOf(Choice("delete", "mask", "pad", "zeros", "mean", "blur"), Float(), Array()))
BACKGROUND = Optional(Table())
SEGMENTATION = Choice("slic", "quickshift", "grid")


def removable(model, batch, *, baseline: Any = None, background: Any = None, segmentation: str = "slic",
              n_segments: int = 50, windows: tuple | None = None, seed: int = 0) -> list:
    """One perturbable item per example.

    Text: ``baseline`` in {"delete" (default), "mask", "pad"}. Images: features are ``windows`` ((window,
    stride) boxes, for occlusion) or a ``segmentation`` ("grid", "slic", "quickshift") into about
    ``n_segments`` parts; removed pixels take ``baseline`` ("zeros" default, "mean", "blur", a number or an
    array); an image that the superpixel algorithm cannot split into at least a quarter of
    ``n_segments`` parts falls back to the grid. Tables: removed columns take ``background`` rows (averaged over) or the ``baseline`` row.
    """
    if batch.modality == "text":
        mode = baseline or "delete"
        if mode not in TEXT_REMOVALS:
            raise InputError(f"baseline {mode!r} does not apply to text (words are removed by one of "
                             f"{', '.join(TEXT_REMOVALS)}); got baseline={mode!r}.")
        rid = {"mask": getattr(model, "mask_id", None), "pad": getattr(model, "pad_id", None)}.get(mode)
        text = {"mask": "[MASK]", "pad": "[PAD]"}.get(mode, "")
        return [TextPerturbation(d, mode, rid, text) for d in batch.docs]
    if batch.modality == "image":
        items = []
        for x in batch.x:
            base = image_baseline(x, "zeros" if baseline is None else baseline)
            _, h, w = x.shape
            if windows is not None:
                items.append(ImagePerturbation(x, base, boxes=tuple(window_boxes(h, w, *windows))))
                continue
            labels = None
            if segmentation != "grid":
                labels = superpixel_labels(x, segmentation, n_segments, seed)
                if labels.max() + 1 < max(2, n_segments // 4):  # flat or noise-like images defeat superpixels
                    labels = None
            if labels is None:
                labels = grid_labels(h, w, int(np.ceil(max(h, w) / np.sqrt(n_segments))))
            items.append(ImagePerturbation(x, base, labels=labels))
        return items
    bg = tabular_background(batch.x, background, baseline, batch.feature_names)
    return [TabularPerturbation(row, bg) for row in batch.x]

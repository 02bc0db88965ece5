"""One diverging colour scale for every view: orange supports the explained class, purple speaks against it
(readable with the common colour-vision deficiencies)."""

from __future__ import annotations

import numpy as np

POSITIVE = (230, 97, 1)
NEGATIVE = (94, 60, 153)


def rgba(value: float, scale: float) -> str:
    """CSS colour for a signed value; opacity grows with |value| / scale."""
    if scale <= 0 or not np.isfinite(value):
        return "rgba(0,0,0,0)"
    r, g, b = POSITIVE if value >= 0 else NEGATIVE
    return f"rgba({r},{g},{b},{min(abs(value) / scale, 1.0) * 0.85:.3f})"


def overlay(image: np.ndarray, attribution: np.ndarray) -> np.ndarray:
    """(C, H, W) image and (H, W) map -> (H, W, 3) uint8: the image in grey under the signed map."""
    img = image.astype(np.float64)
    grey = img.mean(axis=0)
    lo, hi = grey.min(), grey.max()
    grey = (grey - lo) / (hi - lo) if hi > lo else np.zeros_like(grey)
    base = np.repeat((0.35 + 0.5 * grey)[..., None], 3, axis=2)
    a = attribution.astype(np.float64)
    scale = np.abs(a).max()
    alpha = (np.abs(a) / scale)[..., None] if scale > 0 else np.zeros(a.shape + (1,))
    tint = np.where((a >= 0)[..., None], np.array(POSITIVE) / 255, np.array(NEGATIVE) / 255)
    return (255 * ((1 - 0.9 * alpha) * base + 0.9 * alpha * tint)).clip(0, 255).astype(np.uint8)


def image_rgb(image: np.ndarray) -> np.ndarray:
    """(C, H, W) -> (H, W, 3) uint8, min-max scaled (grey images repeated)."""
    img = image.astype(np.float64)
    lo, hi = img.min(), img.max()
    img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
    if img.shape[0] == 1:
        img = np.repeat(img, 3, axis=0)
    return (255 * np.moveaxis(img[:3], 0, -1)).astype(np.uint8)

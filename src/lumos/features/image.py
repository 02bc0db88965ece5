"""Image features (grid patches, superpixels, sliding windows), baselines, and pixel removal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import ndimage

from ..errors import InputError

ImageBaseline = Literal["zeros", "mean", "blur"] | float | np.ndarray


def check_images(inputs: object) -> np.ndarray:
    """(B, C, H, W) float32 array from an array or tensor, or an InputError saying what was wrong.

    uint8 images are pixels in 0..255 and are scaled to [0, 1] (as torchvision's ToTensor does); pass a float
    array to keep values as they are."""
    if hasattr(inputs, "detach"):
        inputs = inputs.detach().cpu().numpy()  # type: ignore[union-attr]
    x = np.asarray(inputs)
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 255.0
    elif x.dtype == bool:
        x = x.astype(np.float32)  # a binary image: 0 and 1
    if x.ndim == 3:
        raise InputError(f"images must be a batch (B, C, H, W); got one image of shape {x.shape}. "
                         "Add a batch axis: x[None].")
    if x.ndim != 4:
        raise InputError(f"images must have shape (B, C, H, W); got shape {x.shape}.")
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise InputError(f"images must be real numbers; got dtype {x.dtype}.")
    if x.shape[0] == 0 or x.size == 0:
        raise InputError(f"no inputs: got images of shape {x.shape}. Pass at least one image with pixels.")
    x = x.astype(np.float32)
    bad = ~np.isfinite(x)
    if bad.any():
        i = int(np.argwhere(bad.reshape(len(x), -1).any(1))[0, 0])
        raise InputError(f"image {i} contains NaN or inf ({int(bad[i].sum())} values); clean or impute it first.")
    return x


def image_baseline(x: np.ndarray, baseline: ImageBaseline, blur_sigma: float | None = None) -> np.ndarray:
    """x: (C, H, W) -> the (C, H, W) reference image that stands for 'feature removed'."""
    if isinstance(baseline, str):
        if baseline == "zeros":
            return np.zeros_like(x)
        if baseline == "mean":
            return np.broadcast_to(x.mean(axis=(1, 2), keepdims=True), x.shape).astype(x.dtype).copy()
        if baseline == "blur":
            sigma = blur_sigma if blur_sigma is not None else max(x.shape[1:]) / 10
            return ndimage.gaussian_filter(x, sigma=(0, sigma, sigma)).astype(x.dtype)
        raise InputError(f"unknown image baseline {baseline!r}; use 'zeros', 'mean', 'blur', a number or an array.")
    b = np.asarray(baseline, dtype=x.dtype)
    try:
        return np.broadcast_to(b, x.shape).copy()
    except ValueError:
        raise InputError(f"baseline of shape {b.shape} does not broadcast to the image shape {x.shape}.") from None


def grid_labels(h: int, w: int, patch: int) -> np.ndarray:
    """(H, W) int label map of square patches of side ``patch``, numbered row by row."""
    rows = np.arange(h) // patch
    cols = np.arange(w) // patch
    return rows[:, None] * (-(-w // patch)) + cols[None, :]


def superpixel_labels(x: np.ndarray, algorithm: str, n_segments: int, seed: int) -> np.ndarray:
    """(H, W) int label map from scikit-image's SLIC or quickshift on a (C, H, W) image."""
    from skimage.segmentation import quickshift, slic

    img = np.moveaxis(x, 0, -1).astype(np.float64)
    lo, hi = img.min(), img.max()
    img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
    channel_axis = -1 if img.shape[-1] > 1 else None
    if channel_axis is None:
        img = img[..., 0]
    if algorithm == "slic":
        labels = slic(img, n_segments=n_segments, compactness=10, start_label=0, channel_axis=channel_axis)
    elif algorithm == "quickshift":
        if channel_axis is None:
            img = np.repeat(img[..., None], 3, axis=-1)
        labels = quickshift(img, kernel_size=4, max_dist=200, ratio=0.2, rng=seed)
    else:
        raise InputError(f"unknown segmentation {algorithm!r}; use 'grid', 'slic' or 'quickshift'.")
    _, labels = np.unique(labels, return_inverse=True)
    return labels.reshape(x.shape[1:])


def window_boxes(h: int, w: int, window: tuple[int, int], stride: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """(y0, y1, x0, x1) of sliding windows covering the whole image (the last one flush with the border)."""
    def starts(n: int, k: int, s: int) -> list[int]:
        if k >= n:
            return [0]
        out = list(range(0, n - k + 1, s))
        return out if out[-1] == n - k else out + [n - k]

    return [(y, y + window[0], x, x + window[1]) for y in starts(h, window[0], stride[0])
            for x in starts(w, window[1], stride[1])]


@dataclass(frozen=True)
class ImagePerturbation:
    """One image and its features: a partition (``labels``, (H, W)) or possibly overlapping boxes.

    A removed feature's pixels take the baseline's values in every channel.
    """

    x: np.ndarray  # (C, H, W)
    baseline: np.ndarray  # (C, H, W)
    labels: np.ndarray | None = None
    boxes: tuple[tuple[int, int, int, int], ...] | None = None
    replicates: int = 1

    @property
    def n_features(self) -> int:
        return int(self.labels.max()) + 1 if self.labels is not None else len(self.boxes)  # type: ignore[arg-type]

    def pixel_keep(self, keep: np.ndarray) -> np.ndarray:
        """keep: (S, F) bool -> (S, 1, H, W) bool per pixel."""
        keep = np.asarray(keep, dtype=bool)
        if self.labels is not None:
            return keep[:, self.labels][:, None]
        out = np.ones((len(keep), 1) + self.x.shape[1:], dtype=bool)
        for f, (y0, y1, x0, x1) in enumerate(self.boxes):  # type: ignore[arg-type]
            out[~keep[:, f], :, y0:y1, x0:x1] = False
        return out

    def render(self, keep: np.ndarray) -> np.ndarray:
        """keep: (S, F) bool -> (S, C, H, W) images."""
        return np.where(self.pixel_keep(keep), self.x[None], self.baseline[None])

    def row_bytes(self) -> int:
        return self.x.nbytes

    def to_pixels(self, scores: np.ndarray) -> np.ndarray:
        """(F,) feature scores -> (1, H, W); overlapping boxes average the scores of the windows over a pixel."""
        if self.labels is not None:
            return scores[self.labels][None].astype(np.float32)
        total = np.zeros(self.x.shape[1:], dtype=np.float64)
        count = np.zeros(self.x.shape[1:], dtype=np.float64)
        for s, (y0, y1, x0, x1) in zip(scores, self.boxes):  # type: ignore[arg-type]
            total[y0:y1, x0:x1] += s
            count[y0:y1, x0:x1] += 1
        return (total / np.maximum(count, 1))[None].astype(np.float32)

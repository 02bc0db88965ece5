"""HTML fragments for one explanation: shaded words, image overlays, signed bars. Every string that
from data is escaped here."""

from __future__ import annotations

import base64
import io
from html import escape
from typing import Sequence

import numpy as np

from .colors import image_rgb, overlay, rgba


def png_data_uri(rgb: np.ndarray, upscale_to: int = 160) -> str:
    """(H, W, 3) uint8 -> an inline PNG (nearest-neighbour upscaled so small images stay visible)."""
    from PIL import Image

    img = Image.fromarray(rgb)
    if max(img.size) < upscale_to:
        factor = max(1, upscale_to // max(img.size))
        img = img.resize((img.size[0] * factor, img.size[1] * factor), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def text_view(words: Sequence[str], scores: np.ndarray, rationale: np.ndarray | None = None,
              scale: float | None = None) -> str:
    """Words shaded by attribution; words of the human/ground-truth rationale underlined."""
    scores = np.asarray(scores, dtype=np.float64)
    scale = float(np.abs(scores).max()) if scale is None else scale
    spans = []
    for j, (w, s) in enumerate(zip(words, scores)):
        cls = ' class="rationale"' if rationale is not None and j < len(rationale) and rationale[j] else ""
        spans.append(f'<span{cls} style="background:{rgba(s, scale)}" title="{s:+.4f}">{escape(str(w))}</span>')
    return '<p class="words">' + " ".join(spans) + "</p>"


def image_view(image: np.ndarray, attribution: np.ndarray, title: str) -> str:
    """The attribution (channel-summed) over the image, with its title."""
    a = np.asarray(attribution, dtype=np.float64)
    a = a.sum(axis=0) if a.ndim == 3 else a
    return (f'<figure><img alt="{escape(title)}" src="{png_data_uri(overlay(image, a))}">'
            f"<figcaption>{escape(title)}</figcaption></figure>")


def original_view(image: np.ndarray) -> str:
    return f'<figure><img alt="input" src="{png_data_uri(image_rgb(image))}"><figcaption>input</figcaption></figure>'


def bars_view(features: Sequence[str], scores: np.ndarray, top: int = 10) -> str:
    """A signed horizontal bar chart (inline SVG) of the ``top`` features by |attribution|."""
    scores = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-np.abs(scores), kind="stable")[:top]
    scale = float(np.abs(scores[order]).max()) if len(order) else 0.0
    row, label_w, half = 18, 170, 130
    height = row * len(order) + 4
    parts = [f'<svg class="bars" width="{label_w + 2 * half + 60}" height="{height}" role="img">',
             f'<line x1="{label_w + half}" y1="0" x2="{label_w + half}" y2="{height}" stroke="#888"/>']
    for k, j in enumerate(order):
        v = scores[j]
        width = half * abs(v) / scale if scale > 0 else 0
        x = label_w + half - width if v < 0 else label_w + half
        y = 2 + k * row
        parts.append(f'<text x="{label_w - 6}" y="{y + 12}" text-anchor="end">{escape(str(features[j]))}</text>')
        parts.append(f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{row - 4}" fill="{rgba(v, 1e-12)}"/>')
        parts.append(f'<text x="{label_w + 2 * half + 4}" y="{y + 12}">{v:+.3f}</text>')
    return "".join(parts) + "</svg>"


def legend() -> str:
    return ('<div class="legend"><span style="background:' + rgba(-1, 1) + '">against the class</span>'
            '<span>neutral</span><span style="background:' + rgba(1, 1) + '">for the class</span>'
            '<span class="rationale">underlined: human / true rationale</span></div>')

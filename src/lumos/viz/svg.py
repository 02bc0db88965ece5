"""Small charts as inline SVG built from numbers (no script, no network): every label from data is escaped."""

from __future__ import annotations

from html import escape
from typing import Sequence

PALETTE = ["#1b6ca8", "#d1495b", "#2a9d8f", "#e9a03b", "#6a4c93"]


def svg_curves(series: dict[str, Sequence[tuple[float, float]]], x_label: str, y_label: str,
               width: int = 420, height: int = 220) -> str:
    """A small line chart (inline SVG, no script) of y in [0, 1] against x, one polyline per series."""
    pad_l, pad_b, pad_t, pad_r = 44, 34, 10, 130
    xs = [x for pts in series.values() for x, _ in pts] or [0.0, 1.0]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    w, h = width - pad_l - pad_r, height - pad_b - pad_t

    def px(x: float) -> float:
        return pad_l + (x - x0) / (x1 - x0) * w

    def py(y: float) -> float:
        return pad_t + (1 - min(max(y, 0.0), 1.0)) * h

    parts = [f'<svg class="curve" width="{width}" height="{height}" role="img" font-size="11">',
             f'<rect x="{pad_l}" y="{pad_t}" width="{w}" height="{h}" fill="none" stroke="#bbb"/>']
    for t in (0.0, 0.5, 1.0):
        parts.append(f'<text x="{pad_l - 4}" y="{py(t) + 4:.1f}" text-anchor="end">{t:g}</text>')
    for t in (x0, (x0 + x1) / 2, x1):
        parts.append(f'<text x="{px(t):.1f}" y="{pad_t + h + 14}" text-anchor="middle">{t:.3g}</text>')
    parts.append(f'<text x="{pad_l + w / 2:.1f}" y="{height - 4}" text-anchor="middle">{escape(x_label)}</text>')
    parts.append(f'<text x="10" y="{pad_t + h / 2:.1f}" transform="rotate(-90 10 {pad_t + h / 2:.1f})" '
                 f'text-anchor="middle">{escape(y_label)}</text>')
    for k, (name, pts) in enumerate(series.items()):
        colour = PALETTE[k % len(PALETTE)]
        points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts if y == y)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
        parts.append(f'<text x="{pad_l + w + 8}" y="{pad_t + 12 + 14 * k}" fill="{colour}">{escape(name)}</text>')
    return "".join(parts) + "</svg>"



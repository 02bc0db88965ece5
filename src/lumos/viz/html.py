"""HTML fragments: shaded words, image overlays, signed bars, legends and result tables, for notebooks and the
report alike. Every string that comes from data is escaped here.

These stay hand-written rather than matplotlib (``lumos.plot``): words must wrap with the page and stay
selectable text, and one overlay or bar chart here costs about a millisecond and a few kilobytes against a
tenth of a second and tens of kilobytes for a figure, and the report draws one per example and method.
"""

from __future__ import annotations

import base64
import io
from html import escape
from typing import Any, Sequence

import numpy as np

from .colors import image_rgb, overlay, rgba

CHAR_PX = 7.2  # width of a character of the 12 px labels, for sizing the bar charts


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
    """Words shaded by attribution (value on hover); words of the human/ground-truth rationale underlined."""
    scores = np.asarray(scores, dtype=np.float64)
    scale = float(np.abs(scores).max()) if scale is None else scale
    spans = []
    for j, (w, s) in enumerate(zip(words, scores)):
        underline = rationale is not None and j < len(rationale) and rationale[j]
        style = f"background:{rgba(s, scale)};padding:1px 2px;border-radius:3px"
        if underline:
            style += ";text-decoration:underline;text-decoration-thickness:2px;text-underline-offset:3px"
        cls = ' class="rationale"' if underline else ""
        spans.append(f'<span{cls} style="{style}" title="{s:+.4f}">{escape(str(w))}</span>')
    return '<p class="words">' + " ".join(spans) + "</p>"


def image_view(image: np.ndarray | None, attribution: np.ndarray, title: str) -> str:
    """The (H, W) map (a (C, H, W) one is summed over channels) over the photo in grey, with its title.
    Without the photo (``image`` None) the map is drawn on a flat grey square, and the caption says so."""
    a = np.asarray(attribution, dtype=np.float64)
    a = a.sum(axis=0) if a.ndim == 3 else a
    caption = title if image is not None else f"{title} (input not kept)"
    base = image if image is not None else np.zeros((1,) + a.shape, dtype=np.float32)
    return (f'<figure style="margin:0;text-align:center;font-size:.8rem;color:#555;display:inline-block">'
            f'<img alt="{escape(caption)}" src="{png_data_uri(overlay(base, a))}" '
            f'style="display:block;image-rendering:pixelated;max-width:180px">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def original_view(image: np.ndarray) -> str:
    return (f'<figure style="margin:0;text-align:center;font-size:.8rem;color:#555;display:inline-block">'
            f'<img alt="input" src="{png_data_uri(image_rgb(image))}" '
            f'style="display:block;image-rendering:pixelated;max-width:180px"><figcaption>input</figcaption></figure>')


def bars_view(features: Sequence[str], scores: np.ndarray, top: int = 10, values: Sequence[Any] | None = None) -> str:
    """A signed horizontal bar chart (inline SVG) of the ``top`` features by |attribution|, each labelled
    "feature = value" when ``values`` (the row) is given; sized so that no label or number is cut."""
    scores = np.asarray(scores, dtype=np.float64).ravel()
    order = np.argsort(-np.abs(scores), kind="stable")[:top]
    scale = float(np.abs(scores[order]).max()) if len(order) else 0.0
    labels = [str(features[j]) if values is None else f"{features[j]} = {number(values[j])}" for j in order]
    numbers = [f"{scores[j]:+.3g}" for j in order]
    row, half = 20, 110
    label_w = int(CHAR_PX * max((len(s) for s in labels), default=4)) + 12
    num_w = int(CHAR_PX * max(9, *(len(s) for s in numbers))) + 8  # room for "-4.44e-16": zero lines align
    mid = label_w + num_w + half  # the zero line; numbers sit outside the bar ends, on either side
    width, height = mid + half + num_w, row * len(order) + 4
    parts = [f'<svg class="bars" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'font-size="12" style="font-family:system-ui,sans-serif">',
             f'<line x1="{mid}" y1="0" x2="{mid}" y2="{height}" stroke="#888"/>']
    for k, j in enumerate(order):
        v = scores[j]
        bar = half * abs(v) / scale if scale > 0 else 0
        x = mid - bar if v < 0 else mid
        y = 2 + k * row
        parts.append(f'<text x="{label_w - 8}" y="{y + 13}" text-anchor="end" fill="#333">{escape(labels[k])}</text>')
        parts.append(f'<rect x="{x:.1f}" y="{y + 1}" width="{bar:.1f}" height="{row - 6}" fill="{rgba(v, 1e-12)}"/>')
        tx, anchor = (mid + bar + 4, "start") if v >= 0 else (mid - bar - 4, "end")
        parts.append(f'<text x="{tx:.1f}" y="{y + 13}" text-anchor="{anchor}" fill="#333">{numbers[k]}</text>')
    return "".join(parts) + "</svg>"


def number(value: Any) -> str:
    """A feature value as people read it: 39, 50,940, 0.9951, or the value itself."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return str(value)
    v = float(value)
    if not np.isfinite(v):
        return str(v)
    if v.is_integer() and abs(v) < 1e15:
        return f"{int(v):,}" if abs(v) >= 10000 else str(int(v))
    return f"{v:,.0f}" if abs(v) >= 10000 else f"{v:.4g}"


PILL = "display:inline-block;padding:2px 8px;margin:0 6px 4px 0;border-radius:3px;font-size:.85rem"


def legend(rationale: bool = True) -> str:
    """What the colours mean: a purple-white-orange scale with its ends named (and the underline, for text
    with a rationale). Styled inline, so it reads the same in a notebook as in the report."""
    ramp = ", ".join(rgba(v, 1.0) if v else "rgba(255,255,255,1)" for v in (-1, -0.5, 0, 0.5, 1))
    parts = [f'<div class="legend" style="margin:.4rem 0;font-size:.85rem;color:#444">',
             f'<span style="{PILL};background:{rgba(-1, 1)};color:#fff">against the class</span>',
             f'<span style="display:inline-block;width:120px;height:12px;vertical-align:middle;margin:0 6px 4px 0;'
             f'background:linear-gradient(to right, {ramp});border:1px solid #ddd"></span>',
             f'<span style="{PILL};background:{rgba(1, 1)};color:#fff">for the class</span>',
             '<span style="margin-right:8px">stronger colour = larger share of the attribution</span>']
    if rationale:
        parts.append(f'<span class="rationale" style="{PILL};text-decoration:underline;'
                     'text-decoration-thickness:2px">underlined: human / true rationale</span>')
    return "".join(parts) + "</div>"


def table_html(columns: Sequence[str], rows: Sequence[Sequence[Any]], caption: str | None = None,
               marked: Sequence[Sequence[bool]] | None = None, note: str | None = None) -> str:
    """A small table for notebooks: numbers right-aligned to 3 significant digits, ``marked`` cells bold on
    orange (changes), an optional caption and a note under it."""
    style = "border-collapse:collapse;font-size:.85rem;margin:.3rem 0"
    out = [f'<table style="{style}">']
    if caption:
        out.append(f'<caption style="text-align:left;font-weight:600;padding:.2rem 0">{escape(caption)}</caption>')
    out.append("<tr>" + "".join(f'<th style="padding:.2rem .5rem;border-bottom:1px solid #ccc;text-align:left">'
                                f"{escape(str(c))}</th>" for c in columns) + "</tr>")
    for r, row in enumerate(rows):
        cells = []
        for c, v in enumerate(row):
            numeric = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
            text = (f"{v:.3g}" if isinstance(v, (float, np.floating)) else str(v)) if numeric else str(v)
            css = "padding:.2rem .5rem;border-bottom:1px solid #eee;" + ("text-align:right;" if numeric else "")
            if marked is not None and marked[r][c]:
                css += "background:#fde0c5;font-weight:700;"
            cells.append(f'<td style="{css}">{escape(text)}</td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    if note:
        out.append(f'<p style="font-size:.8rem;color:#666;margin:.1rem 0 .6rem">{escape(note)}</p>')
    return "".join(out)


def scores_table(rows: Sequence[dict], method: str | None, degenerate: int, n: int) -> str:
    """``lumos.evaluate``'s Scores in a notebook: per metric the mean, its 95% interval, which way is better,
    the examples counted and what the metric measures; a warning line when explanations were degenerate."""
    body = []
    for r in rows:
        arrow = {True: "↑ higher is better", False: "↓ lower is better"}.get(r["higher_is_better"], "")
        lo, hi = r["interval"]
        interval = f"[{lo:.3g}, {hi:.3g}]" if lo == lo else "—"
        favours = "; ".join(f"favours {m} by construction" for m in r.get("favours") or {})
        body.append([r["metric"], f"{r['mean']:.3g}" if r["mean"] == r["mean"] else "n/a", interval, arrow,
                     r["n"], (r["plain"] + (f" ({favours})" if favours else "")).strip()])
    note = (f"{degenerate} of {n} explanations are all zero or constant: they are left out of the means."
            if degenerate else None)
    head = f"Scores of {method}" if method else "Scores"
    return table_html(["metric", "mean", "95% interval", "direction", "examples", "what it measures"], body,
                      caption=head, note=note)

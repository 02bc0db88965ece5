"""``lumos.plot``: matplotlib figures of explanations and results, the same in notebooks and in the report.

Every function returns a ``matplotlib.figure.Figure`` (a notebook shows it; ``fig.savefig("x.png")`` saves it)
and takes ``ax=`` to draw into an axes of your own instead. ``svg(fig)`` turns a figure into inline SVG (the
report embeds its figures that way).

    lumos.plot.text(expl[0])                  # words shaded by attribution
    lumos.plot.image(expl[0])                 # the map over the photo, with its colour scale
    lumos.plot.bars(expl[0], top=10)          # signed bars, labelled "feature = value"
    lumos.plot.compare({"ig": e_ig, "occlusion": e_occ}, examples=[0, 1])   # methods side by side
    lumos.plot.agreement(lumos.agreement({...}))                            # methods x methods heatmap
    lumos.plot.curves({"pgd": [(0, 0.9), (0.1, 0.4)]}, "epsilon", "accuracy")

Colours are the toolkit's one diverging scale: orange supports the explained class, purple speaks against it,
white is neutral. An explanation is anything with ``attributions``, ``features``, ``method``, ``target``,
``probs``, ``label`` and ``data`` (``lumos.Explanation``). The module imports nothing of lumos but ``viz``.
"""

from __future__ import annotations

import io
import re
from typing import Any, Mapping, Sequence

import numpy as np

from .errors import InputError
from .viz.colors import NEGATIVE, POSITIVE, image_rgb
from .viz.html import number

__all__ = ["text", "image", "bars", "curves", "agreement", "compare", "svg", "cmap"]

PALETTE = ["#1b6ca8", "#d1495b", "#2a9d8f", "#e9a03b", "#6a4c93", "#5b8e7d"]


def cmap():
    """The diverging colour map: purple (against) - white - orange (for)."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("lumos", [np.array(NEGATIVE) / 255, (1, 1, 1), np.array(POSITIVE) / 255])


def svg(fig: Any) -> str:
    """A figure as an inline ``<svg>`` element (text kept as text, no XML header, no date)."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "lumos"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    out = buf.getvalue()
    out = out[out.index("<svg"):]
    return re.sub(r"<metadata>.*?</metadata>", "", out, flags=re.S)


def text(explanation: Any, width: float = 7.0, ax: Any = None) -> Any:
    """Words shaded by attribution, wrapped at ``width`` inches, with the colour scale underneath."""
    scores = np.asarray(explanation.attributions, dtype=np.float64).ravel()
    if ax is not None:
        width = ax.get_position().width * ax.figure.get_figwidth()
    lines = _lines(_layout(explanation.features or [], width - 0.3))
    fig, ax = _axes(ax, (width, lines * LINE_HEIGHT + 1.0))
    _words(ax, explanation, width - 0.3)
    _title(ax, explanation)
    _colourbar(fig, ax, float(np.abs(scores).max()) if scores.size else 0.0,
               "attribution (orange: for the class, purple: against)", orientation="horizontal")
    return fig


def image(explanation: Any, ax: Any = None, alpha: float = 0.75) -> Any:
    """The (H, W) map over the photo (shown in grey underneath), scaled symmetrically around zero."""
    fig, ax = _axes(ax, (3.6, 3.2))
    heat = _heatmap(explanation)
    photo = getattr(explanation, "data", None)
    if photo is not None:
        ax.imshow(image_rgb(np.asarray(photo)).mean(axis=2), cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    scale = float(np.abs(heat).max()) or 1.0
    shown = ax.imshow(heat, cmap=cmap(), vmin=-scale, vmax=scale, alpha=alpha if photo is not None else 1.0,
                      interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    _title(ax, explanation)
    fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.03, label="attribution")
    return fig


def bars(explanation: Any, top: int = 10, ax: Any = None) -> Any:
    """The ``top`` features by |attribution| as signed horizontal bars labelled "feature = value"."""
    scores = np.asarray(explanation.attributions, dtype=np.float64).ravel()
    names = list(explanation.features or [str(i) for i in range(scores.size)])
    values = getattr(explanation, "data", None)
    order = np.argsort(-np.abs(scores), kind="stable")[:top]
    labels = [_feature_label(names[j], None if values is None else np.asarray(values, dtype=object)[j])
              for j in order]
    fig, ax = _axes(ax, (6.0, 0.45 * len(order) + 1.0))
    y = np.arange(len(order))[::-1]
    colours = [np.array(POSITIVE if scores[j] >= 0 else NEGATIVE) / 255 for j in order]
    ax.barh(y, scores[order], color=colours, height=0.7)
    ax.set_yticks(y, labels)
    ax.axvline(0, color="#888", lw=0.8)
    span = float(np.abs(scores[order]).max()) if len(order) else 1.0
    for yy, j in zip(y, order):
        v = scores[j]
        ax.text(v + (0.02 * span if v >= 0 else -0.02 * span), yy, f"{v:+.3g}", va="center",
                ha="left" if v >= 0 else "right", fontsize=9)
    ax.set_xlim(-1.3 * span if (scores[order] < 0).any() else -0.05 * span,
                1.3 * span if (scores[order] > 0).any() else 0.05 * span)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_xlabel("attribution (orange: for the class, purple: against)")
    _title(ax, explanation)
    return fig


def curves(series: Mapping[str, Sequence[tuple[float, float]]], x_label: str, y_label: str,
           ylim: tuple[float, float] | None = (0.0, 1.0), ax: Any = None) -> Any:
    """One line per series of (x, y) points, with markers and a legend."""
    fig, ax = _axes(ax, (5.0, 3.0))
    for k, (name, pts) in enumerate(series.items()):
        pts = [(float(x), float(y)) for x, y in pts if y == y]
        if pts:
            xs, ys = zip(*pts)
            ax.plot(xs, ys, marker="o", ms=3, lw=1.8, color=PALETTE[k % len(PALETTE)], label=name)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.grid(alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    if series:
        ax.legend(frameon=False, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def agreement(result: Any, measure: str = "spearman", ax: Any = None) -> Any:
    """Methods x methods heatmap of mean agreement (-1 to 1), with its colour scale; the diagonal, 1 by
    construction, is left blank. ``result``: a ``lumos.Agreement`` or a square DataFrame."""
    matrix = result.matrix(measure) if hasattr(result, "matrix") else result
    names = [str(m) for m in matrix.index]
    values = matrix.to_numpy(dtype=np.float64).copy()
    np.fill_diagonal(values, np.nan)
    n = len(names)
    fig, ax = _axes(ax, (2.4 + 0.8 * n, 1.6 + 0.6 * n))
    shown = ax.imshow(np.ma.masked_invalid(values), cmap=cmap().with_extremes(bad="#f2f2f2"), vmin=-1, vmax=1)
    for i in range(n):
        for j in range(n):
            v = values[i, j]
            label = "—" if i == j else ("n/a" if v != v else f"{v:.2f}".replace("-0.00", "0.00"))
            ax.text(j, i, label, ha="center", va="center", fontsize=9, color="#222")
    ax.set_xticks(range(n), names, rotation=40, ha="right")
    ax.set_yticks(range(n), names)
    fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.03, label=f"mean {measure} (1: same order)")
    return fig


def compare(explanations: Any, examples: Sequence[int] = (0,), top: int = 8) -> Any:
    """Several methods on the same examples as one figure: a row per example, a column per method (images:
    the photo first). ``explanations``: {method: Explanations}, a list of Explanations, or an Agreement (it
    keeps the explanations it compared)."""
    by_method = _by_method(explanations)
    methods = list(by_method)
    first = next(iter(by_method.values()))[examples[0]]
    kind = _kind(first)
    cols = len(methods) + (1 if kind == "image" else 0)
    if kind == "text":
        lines = max(_lines(_layout(by_method[m][i].features or [], 3.6, 10)) for m in methods for i in examples)
        size = (4.0, lines * LINE_HEIGHT + 0.5)
    else:
        shown = min(top, np.asarray(first.attributions).size)
        size = (2.4, 2.4) if kind == "image" else (3.6, 0.4 * shown + 0.9)
    fig = _figure((size[0] * cols, size[1] * len(examples)))
    grid = fig.subplots(len(examples), cols, squeeze=False)
    for r, i in enumerate(examples):
        offset = 0
        if kind == "image":
            ax = grid[r][0]
            ax.imshow(image_rgb(np.asarray(by_method[methods[0]][i].data)), interpolation="nearest")
            ax.set_title(f"example {i}", fontsize=9)
            ax.set_axis_off()
            offset = 1
        for c, m in enumerate(methods):
            e, ax = by_method[m][i], grid[r][c + offset]
            if kind == "image":
                heat = _heatmap(e)
                scale = float(np.abs(heat).max()) or 1.0
                if e.data is not None:
                    ax.imshow(image_rgb(np.asarray(e.data)).mean(axis=2), cmap="gray", vmin=0, vmax=255)
                ax.imshow(heat, cmap=cmap(), vmin=-scale, vmax=scale, alpha=0.75, interpolation="nearest")
                ax.set_axis_off()
                ax.set_title(_short_title(e, m), fontsize=9)
            elif kind == "tabular":
                bars(e, top=top, ax=ax)
                ax.set_xlabel("")
                ax.set_title("", loc="left")
                ax.set_title(_short_title(e, m), fontsize=9)
            else:
                _words(ax, e, 3.6, 10)
                ax.set_title(_short_title(e, m), fontsize=9)
    return fig


# ----- helpers ---------------------------------------------------------------------------------------------
def _figure(size: tuple[float, float]) -> Any:
    """A figure outside pyplot (no global state, shown once in notebooks), drawable at once (Agg canvas)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _axes(ax: Any, size: tuple[float, float]) -> tuple[Any, Any]:
    if ax is not None:
        return ax.figure, ax
    fig = _figure(size)
    return fig, fig.add_subplot()


def _measure(word: str, fontsize: float) -> float:
    """Width in inches of a word as drawn (its shading included)."""
    from matplotlib.textpath import TextPath

    return TextPath((0, 0), word or " ", size=fontsize).get_extents().width / 72 + 0.06


def _heatmap(explanation: Any) -> np.ndarray:
    a = np.asarray(explanation.attributions, dtype=np.float64)
    return a.sum(axis=0) if a.ndim == 3 else a


def _kind(explanation: Any) -> str:
    if np.asarray(explanation.attributions).ndim == 3:
        return "image"
    return "text" if (getattr(explanation, "params", None) or {}).get("granularity") else "tabular"


def _title(ax: Any, e: Any) -> None:
    ax.set_title(_short_title(e, getattr(e, "method", "")), fontsize=10, loc="left")


def _short_title(e: Any, method: str) -> str:
    target = getattr(e, "target", None)
    label = getattr(e, "label", None) or (str(target) if target is not None else "")
    probs = getattr(e, "probs", None)
    p = f" (p = {float(probs[target]):.2f})" if probs is not None and target is not None else ""
    return f"{method}: {label}{p}"


def _feature_label(name: Any, value: Any) -> str:
    return str(name) if value is None else f"{name} = {number(value)}"


def _colourbar(fig: Any, ax: Any, scale: float, label: str, orientation: str = "vertical") -> None:
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    scale = scale or 1.0
    fig.colorbar(ScalarMappable(Normalize(-scale, scale), cmap()), ax=ax, orientation=orientation,
                 fraction=0.08, pad=0.02, aspect=40, label=label)


LINE_HEIGHT = 0.32  # inches per line of words (11 pt with its shading)


def _layout(words: Sequence[Any], width: float, fontsize: float = 11) -> list[tuple[float, int]]:
    """Places (x inches, line) of each word wrapped at ``width`` inches; with no words, one empty line."""
    x, line, places = 0.0, 0, []
    for w in words:
        size = _measure(str(w), fontsize)
        if x > 0 and x + size > width:
            x, line = 0.0, line + 1
        places.append((x, line))
        x += size + 0.07
    return places if places else [(0.0, 0)]


def _lines(places: list[tuple[float, int]]) -> int:
    return places[-1][1] + 1


def _words(ax: Any, e: Any, width: float, fontsize: float = 11) -> None:
    """The words of a text explanation as a wrapped, shaded paragraph filling ``ax`` (``width`` inches)."""
    words = [str(w) for w in (e.features or [])]
    scores = np.asarray(e.attributions, dtype=np.float64).ravel()
    scale = float(np.abs(scores).max()) if scores.size else 0.0
    places = _layout(words, width, fontsize)
    ax.set_axis_off()
    ax.set_xlim(0, width)
    ax.set_ylim(_lines(places) * LINE_HEIGHT, 0)
    colours = cmap()
    for word, s, (x, line) in zip(words, scores, places):
        ax.text(x, (line + 0.7) * LINE_HEIGHT, word, fontsize=fontsize, va="baseline",
                bbox={"boxstyle": "round,pad=0.12", "lw": 0,
                      "fc": colours(0.5 + 0.5 * s / scale) if scale > 0 else "white"})


def _by_method(explanations: Any) -> dict[str, Any]:
    if getattr(explanations, "explanations", None):  # an Agreement
        return dict(explanations.explanations)
    if isinstance(explanations, Mapping):
        return dict(explanations)
    if isinstance(explanations, (list, tuple)):
        return {e.method: e for e in explanations}
    raise InputError("compare takes {method: Explanations}, a list of Explanations or an Agreement; got "
                     f"{type(explanations).__name__}.")

"""Pictures for the tutorials, drawn with matplotlib, until ``lumos.plot`` (issue 22) is on main.

The tutorials do ``from lumos import plot`` and fall back to this module, which has the same functions with the
same arguments: ``text``, ``image``, ``bars``, ``curves``, ``agreement``, ``compare``. Each returns a matplotlib
Figure (a notebook shows it). Orange supports the explained class, purple speaks against it.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

try:  # in a notebook, show a returned Figure as a picture
    from IPython import get_ipython
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    if get_ipython() is not None:
        set_matplotlib_formats("png")
except ImportError:
    pass

ORANGE, PURPLE = np.array([230, 97, 1]) / 255, np.array([94, 60, 153]) / 255
LINES = ["#1b6ca8", "#d1495b", "#2a9d8f", "#e9a03b", "#6a4c93", "#5b8e7d"]


def cmap():
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("lumos", [PURPLE, (1, 1, 1), ORANGE])


def _figure(width: float, height: float, rows: int = 1, cols: int = 1):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.subplots(rows, cols, squeeze=False)


def _title(e: Any, method: str | None = None) -> str:
    return f"{method or e.method}: {e.label} (p = {float(e.probs[e.target]):.2f})"


def _grey(data: Any) -> np.ndarray:
    img = np.asarray(data, dtype=np.float64)
    return img.mean(axis=0) if img.ndim == 3 else img


def _map(e: Any) -> np.ndarray:
    a = np.asarray(e.attributions, dtype=np.float64)
    return a.sum(axis=0) if a.ndim == 3 else a


def _heat(ax: Any, e: Any, title: str) -> None:
    heat = _map(e)
    scale = float(np.abs(heat).max()) or 1.0
    if e.data is not None:
        ax.imshow(_grey(e.data), cmap="gray", interpolation="nearest")
    ax.imshow(heat, cmap=cmap(), vmin=-scale, vmax=scale, alpha=0.7, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title, fontsize=9)


def image(explanation: Any, ax: Any = None) -> Any:
    """The map over the picture (in grey), symmetric around zero."""
    fig, axes = _figure(3.4, 3.2) if ax is None else (ax.figure, [[ax]])
    _heat(axes[0][0], explanation, _title(explanation))
    return fig


def text(explanation: Any, width: int = 90) -> Any:
    """The words shaded by attribution, wrapped at about ``width`` characters."""
    words = [str(w) for w in explanation.features]
    scores = np.asarray(explanation.attributions, dtype=np.float64)
    scale = float(np.abs(scores).max()) or 1.0
    lines, line = [], []
    for w, s in zip(words, scores):
        if line and sum(len(x) + 1 for x, _ in line) + len(w) > width:
            lines.append(line)
            line = []
        line.append((w, s))
    lines.append(line)
    fig, axes = _figure(0.085 * width, 0.35 * len(lines) + 0.5)
    ax = axes[0][0]
    ax.set_axis_off()
    ax.set_xlim(0, width)
    ax.set_ylim(len(lines), -0.6)
    colours = cmap()
    for row, words_scores in enumerate(lines):
        x = 0.0
        for w, s in words_scores:
            ax.text(x, row + 0.3, w, fontsize=10, family="monospace",
                    bbox={"boxstyle": "round,pad=0.1", "lw": 0, "fc": colours(0.5 + 0.5 * s / scale)})
            x += len(w) + 1
    ax.set_title(_title(explanation), fontsize=10, loc="left")
    return fig


def bars(explanation: Any, top: int = 10, ax: Any = None) -> Any:
    """The ``top`` features by |attribution| as signed bars."""
    scores = np.asarray(explanation.attributions, dtype=np.float64).ravel()
    names = [str(f) for f in (explanation.features or range(scores.size))]
    order = np.argsort(-np.abs(scores), kind="stable")[:top][::-1]
    fig, axes = _figure(5.5, 0.35 * len(order) + 1.0) if ax is None else (ax.figure, [[ax]])
    ax = axes[0][0]
    ax.barh(range(len(order)), scores[order], color=[ORANGE if s >= 0 else PURPLE for s in scores[order]])
    ax.set_yticks(range(len(order)), [names[j] for j in order])
    ax.axvline(0, color="#888", lw=0.8)
    ax.set_title(_title(explanation), fontsize=10, loc="left")
    return fig


def curves(series: Mapping[str, Sequence[tuple[float, float]]], x_label: str, y_label: str,
           ylim: tuple[float, float] | None = None, ax: Any = None) -> Any:
    """One line per series of (x, y) points."""
    fig, axes = _figure(5.0, 3.0) if ax is None else (ax.figure, [[ax]])
    ax = axes[0][0]
    for k, (name, points) in enumerate(series.items()):
        xs, ys = zip(*points)
        ax.plot(xs, ys, marker="o", ms=3, color=LINES[k % len(LINES)], label=name)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=8)
    return fig


def agreement(result: Any, measure: str = "spearman") -> Any:
    """Methods x methods heatmap of mean agreement, -1 to 1."""
    matrix = result.matrix(measure) if hasattr(result, "matrix") else result
    values, names = matrix.to_numpy(dtype=np.float64), [str(n) for n in matrix.index]
    fig, axes = _figure(1.6 + 0.9 * len(names), 1.2 + 0.7 * len(names))
    ax = axes[0][0]
    shown = ax.imshow(values, cmap=cmap(), vmin=-1, vmax=1)
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(j, i, f"{values[i, j]:.2f}", ha="center", va="center", fontsize=9)
    ax.set_xticks(range(len(names)), names, rotation=40, ha="right")
    ax.set_yticks(range(len(names)), names)
    fig.colorbar(shown, ax=ax, label=f"mean {measure}")
    return fig


def compare(explanations: Mapping[str, Any], examples: Sequence[int] = (0,), top: int = 8) -> Any:
    """A row per example, a column per method: image maps (the picture first) or signed bars."""
    methods = list(explanations)
    first = explanations[methods[0]][examples[0]]
    is_image = np.asarray(first.attributions).ndim == 3
    cols = len(methods) + is_image
    fig, axes = _figure((2.3 if is_image else 3.6) * cols, (2.3 if is_image else 3.0) * len(examples),
                        len(examples), cols)
    for r, i in enumerate(examples):
        e0 = explanations[methods[0]][i]
        if is_image:
            axes[r][0].imshow(np.moveaxis(np.asarray(e0.data), 0, -1).squeeze(), cmap="gray",
                              interpolation="nearest")
            axes[r][0].set_axis_off()
            axes[r][0].set_title(f"{i}: {e0.label} (p = {float(e0.probs[e0.target]):.2f})", fontsize=9)
        for c, m in enumerate(methods):
            e = explanations[m][i]
            if is_image:
                _heat(axes[r][c + 1], e, m)
            else:
                bars(e, top=top, ax=axes[r][c])
                axes[r][c].set_title(_title(e, m), fontsize=9)
    return fig

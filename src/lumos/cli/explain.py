"""``lumos explain``: one example explained by a model: a sentence with its words shaded by attribution, an
image file with its heatmap written beside it, or a table row with a bar per column."""

from __future__ import annotations

from typing import Optional

import typer

from ._app import app, one_line_errors


@app.command()
@one_line_errors
def explain(example: str = typer.Argument(..., metavar="EXAMPLE",
                                          help="A sentence (text models), an image file (image models) or a row "
                                               "number of the test split (table models)."),
            model: str = typer.Option("sentiment/tfidf", help="A zoo name, or a model trained with `lumos train` "
                                                              "(name or folder)."),
            method: str = typer.Option("occlusion", help="An explanation method (see `lumos methods`)."),
            target: Optional[str] = typer.Option(None, help="Class to explain (default: the predicted one)."),
            out: Optional[str] = typer.Option(None, help="Image models: the heatmap PNG to write (default: "
                                                         "<image name>.<method>.png here)."),
            seed: int = typer.Option(0)) -> None:
    """Explain one example and show which parts of it the prediction rests on."""
    from ..training import resolve

    wrapped, splits = resolve(model)
    target_value = int(target) if target is not None and target.isdigit() else target
    test = splits["test"]
    if "image" in test.columns:
        _image(wrapped, example, test, method, target_value, seed, out)
    elif "text" in test.columns or not len(test.columns):
        _text(wrapped, example, method, target_value, seed)
    else:
        _row(wrapped, example, splits, method, target_value, seed)


def _text(wrapped, text: str, method: str, target, seed: int) -> None:
    from rich.console import Console
    from rich.text import Text

    from ..api import explain as explain_inputs
    from ..viz import NEGATIVE, POSITIVE

    e = explain_inputs(wrapped, [text], method=method, target=target, seed=seed)[0]
    scale = float(abs(e.attributions).max()) or 1.0
    line = Text()
    for word, a in zip(e.features, e.attributions):
        r, g, b = POSITIVE if a >= 0 else NEGATIVE
        level = min(abs(float(a)) / scale, 1.0)
        blend = tuple(int(255 - level * (255 - c)) for c in (r, g, b))
        line.append(word, style=f"black on rgb({blend[0]},{blend[1]},{blend[2]})")
        line.append(" ")
    console = Console()
    console.print(f"{e.method} explaining [bold]{e.label}[/bold] (p = {e.probs[e.target]:.2f}):")
    console.print(line)
    console.print("[dim]orange: for the class; purple: against it[/dim]")


def _image(wrapped, path: str, test, method: str, target, seed: int, out: str | None) -> None:
    """The image decoded as the model's training images were (their side and channels), explained, and the map
    laid over it in a PNG."""
    from pathlib import Path

    import numpy as np
    from PIL import Image

    from ..api import explain as explain_inputs
    from ..errors import InputError
    from ..training.images import decode
    from ..viz.colors import overlay

    source = Path(path).expanduser()
    if not source.is_file():
        raise InputError(f"{path} is not a file; an image model explains an image file (PNG, JPEG, ...).")
    channels, side = test["image"].iloc[0].shape[:2] if len(test) else (3, 224)
    try:
        x = decode(source, int(side), int(channels))[None]
    except (OSError, SyntaxError, ValueError) as e:
        raise InputError(f"{path} does not decode as an image ({e}).") from None
    e = explain_inputs(wrapped, x, method=method, target=target, seed=seed)[0]
    heat = np.asarray(e.attributions, dtype=np.float64)
    heat = heat.sum(0) if heat.ndim == 3 else heat
    picture = Image.fromarray(overlay(x[0], heat))
    scale = max(1, 256 // max(picture.size))
    picture = picture.resize((picture.width * scale, picture.height * scale), Image.Resampling.NEAREST)
    target_path = Path(out) if out else Path(f"{source.stem}.{method}.png")
    picture.save(target_path)
    top = np.argsort(e.probs)[::-1][:3]
    others = ", ".join(f"{wrapped.labels[i] if wrapped.labels else i} {e.probs[i]:.2f}" for i in top[1:])
    typer.echo(f"{e.method} explaining {e.label} (p = {e.probs[e.target]:.2f}; next: {others})")
    typer.echo(f"heatmap: {target_path} (orange: for the class; purple: against it)")


def _row(wrapped, row: str, splits, method: str, target, seed: int) -> None:
    """Row ``row`` of the test split, explained against training rows as background; one bar per column."""
    from rich.console import Console

    from ..api import explain as explain_inputs
    from ..errors import InputError
    from ..registry import EXPLAINERS

    test = splits["test"]
    if not row.isdigit() or int(row) >= len(test):
        raise InputError(f"a table model explains a row of its test split: pass a number 0..{len(test) - 1}; "
                         f"got {row!r}.")
    features = test.drop(columns=[c for c in ("label",) if c in test.columns])
    background = splits["train"][features.columns].sample(min(50, len(splits["train"])), random_state=seed)
    params = {"background": background} if "background" in EXPLAINERS.info(method)["params"] else {}
    e = explain_inputs(wrapped, features.iloc[[int(row)]], method=method, target=target, seed=seed, **params)[0]
    console = Console()
    console.print(f"{e.method} explaining [bold]{e.label}[/bold] (p = {e.probs[e.target]:.2f}) for test row {row}:")
    scale = float(abs(e.attributions).max()) or 1.0
    width = max(len(str(f)) for f in e.features)
    values = features.iloc[int(row)]
    for feature, a in sorted(zip(e.features, e.attributions), key=lambda fa: -abs(fa[1])):
        bar = "█" * max(1, round(20 * abs(float(a)) / scale))
        colour = "dark_orange3" if a >= 0 else "purple"
        console.print(f"  {str(feature):<{width}}  {str(values[feature])[:24]:<24} [{colour}]{bar}[/{colour}] "
                      f"{float(a):+.3g}", soft_wrap=True)
    console.print("[dim]orange: for the class; purple: against it[/dim]")

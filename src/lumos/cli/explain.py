"""``lumos explain``: one input explained by a zoo model, for any modality.

    lumos explain "a gripping film" --model sentiment/tfidf          # text: words shaded, top words listed
    lumos explain cat.png --model imagenet/efficientnet_lite0         # image: the map over the photo, saved
    lumos explain --row 17 --model tabular/adult/gbm                  # a table row of the test split ...
    lumos explain age=52 hours_per_week=60 --model tabular/adult/gbm  # ... with some columns set
    lumos explain "..." --json                                        # machine-readable

Colours follow the terminal: full colour, 16 colours (with a legend that names them), none when piped (the
ranked list carries the numbers).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import numpy as np
import typer

from ._app import app, one_line_errors

WEAK, STRONG = 0.15, 0.5  # |attribution| / max |attribution| where a word starts to be shaded, and strongly
BAR = 24  # characters of the longest bar in a table explanation
BACKGROUND_ROWS = 50  # training rows that removed table columns take their values from (as lumos bench)


@app.command()
@one_line_errors
def explain(inputs: Optional[list[str]] = typer.Argument(None, help="Text (a text model), an image file (an "
                                                                     "image model), or COLUMN=VALUE pairs (a table "
                                                                     "model; other columns from --row)."),
            model: str = typer.Option("sentiment/tfidf", help="A zoo name (see `lumos zoo list`), or a model trained "
                                                          "with `lumos train` (its name or folder)."),
            method: str = typer.Option("occlusion", help="An explanation method (see `lumos methods`)."),
            target: Optional[str] = typer.Option(None, help="Class to explain (default: the predicted one)."),
            row: Optional[int] = typer.Option(None, help="Explain this row of --split (any modality)."),
            split: str = typer.Option("test", help="The split --row reads from."),
            top: int = typer.Option(10, help="How many features to list."),
            out: Optional[str] = typer.Option(None, help="Images: where to save the map over the photo (PNG; "
                                                          "default: <method>-map.png)."),
            as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead."),
            seed: int = typer.Option(0)) -> None:
    """Explain one input (text, image file, or table row) and show what drove the prediction."""
    from .. import registry
    from ..api import explain as explain_inputs
    from ..training import modality_of, resolve

    wrapped, splits = resolve(model)
    modality = modality_of(splits)
    x = _input(modality, list(inputs or []), row, split, splits, model)
    target_value = int(target) if target is not None and target.lstrip("-").isdigit() else target
    params = {}
    if modality == "tabular" and "background" in registry.get(method).param_names() and "train" in splits:
        train = splits["train"][list(x.columns)]  # removed columns take the values of training rows
        params["background"] = train.sample(min(BACKGROUND_ROWS, len(train)), random_state=0)
    e = explain_inputs(wrapped, x, method=method, target=target_value, seed=seed, progress=False, **params)[0]
    saved = _save_image(e, out or f"{method}-map.png") if modality == "image" else None
    if as_json:
        typer.echo(json.dumps(_record(e, model, modality, saved, top)))
        return
    from rich.console import Console

    console = Console(highlight=False)
    console.print(f"{model} predicts {e.label or e.target} (p = {e.probs[e.target]:.2f}); {e.method} explains it:",
                  markup=False)
    if modality == "text":
        _text(console, e, top)
    elif modality == "image":
        console.print(f"map over the photo saved to {saved}", markup=False)
        _regions(console, e)
    else:
        _table(console, e, top)


def _input(modality: str, args: list[str], row: int | None, split: str, splits: dict, model: str) -> Any:
    """What to explain, as ``lumos.explain`` takes it (a list of one text, a (1, C, H, W) array, a 1-row frame)."""
    from ..errors import InputError

    frame = splits.get(split)
    if row is not None:
        if frame is None or not 0 <= row < len(frame):
            raise InputError(f"--row {row} --split {split}: {model} has splits "
                             f"{ {k: len(v) for k, v in splits.items()} } (rows).")
    if modality == "text":
        if args:
            return [" ".join(args)]
        if row is None:
            raise InputError(f"give a sentence to explain (lumos explain \"a gripping film\" --model {model}) or --row N.")
        return [str(frame.text.iloc[row])]
    if modality == "image":
        shape = np.asarray(next(f for f in splits.values() if len(f)).image.iloc[0]).shape
        if args:
            return _image_file(args[0], shape)[None]
        if row is None:
            raise InputError(f"give an image file (lumos explain photo.png --model {model}) or --row N.")
        return np.asarray(frame.image.iloc[row], dtype=np.float32)[None]
    rows = frame if frame is not None and len(frame) else next(f for f in splits.values() if len(f))
    columns = [c for c in rows.columns if c != "label"]
    base = rows.iloc[[row or 0]][columns].reset_index(drop=True)
    for pair in args:
        name, sep, value = pair.partition("=")
        if not sep or name not in columns:
            raise InputError(f"{pair!r}: a table model takes COLUMN=VALUE pairs; {model}'s columns: "
                             f"{', '.join(columns)}.")
        base.loc[0, name] = _typed(value, base[name])
    return base


def _typed(value: str, column) -> Any:
    """A value typed on the command line, in its column's type."""
    if np.issubdtype(column.dtype, np.number):
        try:
            return float(value) if np.issubdtype(column.dtype, np.floating) else int(value)
        except ValueError:
            from ..errors import InputError

            raise InputError(f"{column.name} takes numbers; got {value!r}.") from None
    return value


def _image_file(path: str, shape: tuple[int, ...]) -> np.ndarray:
    """An image file -> (C, H, W) float32 in [0, 1] at the model's input size (grey when C is 1)."""
    from PIL import Image, UnidentifiedImageError

    from ..errors import InputError

    c, h, w = shape
    try:
        img = Image.open(path)
    except (OSError, UnidentifiedImageError) as e:
        raise InputError(f"cannot read the image {path!r}: {e}. Give a PNG or JPEG file.") from None
    img = img.convert("L" if c == 1 else "RGB").resize((w, h), Image.BILINEAR)
    a = np.asarray(img, dtype=np.float32) / 255.0
    return (a[None] if c == 1 else np.moveaxis(a, -1, 0)).astype(np.float32)


def _save_image(e, path: str) -> str:
    from .. import plot

    plot.image(e).savefig(path, dpi=120)
    return str(Path(path).resolve())


def _record(e, model: str, modality: str, saved: str | None, top: int) -> dict:
    """The explanation as plain JSON values."""
    out = {"model": model, "method": e.method, "modality": modality, "target": int(e.target), "label": e.label,
           "probability": float(e.probs[e.target]), "probabilities": [float(p) for p in e.probs],
           "base_value": e.base_value, "degenerate": bool(e.degenerate)}
    if modality == "image":
        out.update(map_shape=list(e.heatmap().shape), map=np.round(e.heatmap(), 6).tolist(), saved=saved)
    else:
        values = [v.item() if hasattr(v, "item") else v for v in e.data] if e.data is not None else None
        out.update(features=list(e.features or []), attributions=[float(a) for a in e.attributions],
                   values=values, top=[{"feature": f, "attribution": a} for f, a in _ranked(e, top)])
    return out


def _ranked(e, top: int) -> list[tuple[str, float]]:
    a = np.asarray(e.attributions, dtype=np.float64)
    order = np.argsort(-np.abs(a), kind="stable")[:top]
    return [(str(e.features[j]), float(a[j])) for j in order]


def _styles(console) -> tuple[dict, str]:
    """Styles for (sign, strength) and the legend line, by what the terminal can show."""
    system = console.color_system
    if system is None:
        return {}, ""
    if system in ("standard", "windows"):  # 16 colours: no orange or purple, so name what is used
        return ({(1, 2): "bold black on yellow", (1, 1): "yellow", (-1, 2): "bold white on magenta",
                 (-1, 1): "magenta"},
                "[bold black on yellow] for [/] [yellow]weakly for[/]  [bold white on magenta] against [/] "
                "[magenta]weakly against[/]")
    return ({(1, 2): "black on rgb(230,97,1)", (1, 1): "black on rgb(246,190,150)",
             (-1, 2): "white on rgb(94,60,153)", (-1, 1): "black on rgb(200,186,224)"},
            "[black on rgb(230,97,1)] for the class [/] [black on rgb(246,190,150)] weakly [/]  "
            "[white on rgb(94,60,153)] against [/] [black on rgb(200,186,224)] weakly [/]")


def _level(a: float, scale: float) -> int:
    r = abs(a) / scale if scale > 0 else 0.0
    return 2 if r >= STRONG else 1 if r >= WEAK else 0


def _text(console, e, top: int) -> None:
    """The sentence shaded (when the terminal has colour), then the top words with their signed scores."""
    from rich.text import Text

    styles, legend = _styles(console)
    a = np.asarray(e.attributions, dtype=np.float64)
    scale = float(np.abs(a).max()) if a.size else 0.0
    if styles:
        line = Text()
        for word, v in zip(e.features or [], a):
            level = _level(v, scale)
            line.append(str(word), style=styles.get((1 if v >= 0 else -1, level), "") if level else "")
            line.append(" ")
        console.print(line)
        console.print(legend)
    console.print(f"top {min(top, a.size)} words (+ for the class, - against):", markup=False)
    width = max((len(w) for w, _ in _ranked(e, top)), default=4)
    for word, v in _ranked(e, top):
        console.print(f"  {word:<{width}}  {v:+.4f}", markup=False)


def _table(console, e, top: int) -> None:
    """One line per feature: name = value, signed score and a bar (coloured when the terminal allows)."""
    styles, legend = _styles(console)
    a = np.asarray(e.attributions, dtype=np.float64)
    values = list(e.data) if e.data is not None else [None] * a.size
    scale = float(np.abs(a).max()) if a.size else 0.0
    index = {str(f): j for j, f in enumerate(e.features or [])}
    rows = [(f"{f} = {_short(values[index[f]])}", v) for f, v in _ranked(e, top)]
    label_w = min(34, max((len(r) for r, _ in rows), default=8))
    for label, v in rows:
        n = int(round(BAR * abs(v) / scale)) if scale > 0 else 0
        bar = ("+" if v >= 0 else "-") * n if not styles else "█" * n
        style = styles.get((1 if v >= 0 else -1, 2), "")
        text = f"  {label[:label_w]:<{label_w}}  {v:+.4f}  "
        console.print(text + (f"[{style}]{bar}[/]" if styles and bar else bar), markup=bool(styles), soft_wrap=True)
    if styles:
        console.print(legend)


def _short(value: Any) -> str:
    from ..viz import number

    return number(value.item() if hasattr(value, "item") else value)


def _regions(console, e) -> None:
    """Where the map is strongest: the quarter of the image it puts the most positive attribution in."""
    heat = e.heatmap()
    h, w = heat.shape
    quarters = {"top left": heat[:h // 2, :w // 2], "top right": heat[:h // 2, w // 2:],
                "bottom left": heat[h // 2:, :w // 2], "bottom right": heat[h // 2:, w // 2:]}
    shares = {k: float(np.clip(v, 0, None).sum()) for k, v in quarters.items()}
    total = sum(shares.values())
    if total > 0:
        ranked = sorted(shares.items(), key=lambda kv: -kv[1])
        console.print("positive attribution by quarter: " + ", ".join(f"{k} {v / total:.0%}" for k, v in ranked),
                      markup=False)

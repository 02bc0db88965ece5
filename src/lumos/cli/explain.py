"""``lumos explain``: one sentence explained by a zoo model, its words shaded by attribution."""

from __future__ import annotations

from typing import Optional

import typer

from ._app import app, one_line_errors


@app.command()
@one_line_errors
def explain(text: str = typer.Argument(..., help="The sentence to explain."),
            model: str = typer.Option("sentiment/tfidf", help="A zoo name (see `lumos zoo list`)."),
            method: str = typer.Option("occlusion", help="An explanation method (see `lumos methods`)."),
            target: Optional[str] = typer.Option(None, help="Class to explain (default: the predicted one)."),
            seed: int = typer.Option(0)) -> None:
    """Explain one sentence and print its words shaded by attribution."""
    from rich.console import Console
    from rich.text import Text

    from .. import zoo
    from ..api import explain as explain_inputs
    from ..viz import NEGATIVE, POSITIVE

    wrapped, _ = zoo.load(model)
    target_value = int(target) if target is not None and target.isdigit() else target
    e = explain_inputs(wrapped, [text], method=method, target=target_value, seed=seed)[0]
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

"""``lumos nle`` (a language model explains one prediction in words) and ``lumos nle-serve``."""

from __future__ import annotations

import time
from typing import Optional

import typer

from ._app import app, one_line_errors


@app.command("nle")
@one_line_errors
def nle(text: str = typer.Argument(..., help="The sentence to explain."),
        model: str = typer.Option("sentiment/tfidf", help="A text model: zoo name or trained with `lumos train`."),
        method: str = typer.Option("free", "--method", "--style", help="free, attribution or self_rationalise "
                                                                       "(--style is its old name)."),
        max_new_tokens: int = typer.Option(60, help="Longest answer, in tokens."),
        url: Optional[str] = typer.Option(None, help="An OpenAI-compatible endpoint (default: local)."),
        path: Optional[str] = typer.Option(None, help="A local causal LM (default: SmolLM2)."),
        gguf_file: Optional[str] = typer.Option(None, help="GGUF file name inside --path.")) -> None:
    """A language model explains the prediction in words; prints the words it cites."""
    from ..training import resolve
    from ..nle import explain, generator_for

    classifier, _ = resolve(model)
    e = explain(classifier, [text], generator=generator_for(url, path, gguf_file), method=method,
                max_new_tokens=max_new_tokens)[0]
    typer.echo(f"{model} predicts {e.label} (p = {e.probs[e.target]:.2f}); {e.extras['generator']} ({method}) says:")
    typer.echo(e.extras["text"] or "(nothing)")
    typer.echo(f"cited: {', '.join(e.extras['cited']) or '(no input word)'}")
    if e.extras.get("generator_label") is not None:
        typer.echo(f"the generator's own label: {e.extras['generator_label']}")
    if e.extras["flags"]:
        typer.echo(f"flags: {', '.join(e.extras['flags'])}")


@app.command("nle-serve")
@one_line_errors
def nle_serve(port: int = typer.Option(8080), host: str = typer.Option("127.0.0.1"),
              path: Optional[str] = typer.Option(None, help="A local causal LM (default: SmolLM2)."),
              gguf_file: Optional[str] = typer.Option(None, help="GGUF file name inside --path.")) -> None:
    """Serve a local language model over an OpenAI-compatible API (/v1/chat/completions) until Ctrl-C."""
    from ..nle import LocalGenerator, serve

    server = serve(LocalGenerator(path, gguf_file), host=host, port=port)
    typer.echo(f"serving {server.generator.name} at {server.url}/v1/chat/completions (Ctrl-C stops)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.close()

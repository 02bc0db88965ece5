"""What the ``lumos nle`` and ``lumos nle-serve`` commands do (the command definitions stay thin)."""

from __future__ import annotations

import time

from ..errors import InputError
from .endpoint import EndpointGenerator
from .explain import explain
from .local import LocalGenerator
from .server import serve


def generator_for(url: str | None = None, path: str | None = None, gguf_file: str | None = None,
                  timeout: float = 60.0):
    """An EndpointGenerator for ``url``, else a LocalGenerator for ``path`` (default SmolLM2)."""
    if url and path:
        raise InputError("pass --url (an OpenAI-compatible endpoint) or --path (a local model), not both.")
    return EndpointGenerator(url, timeout=timeout) if url else LocalGenerator(path, gguf_file)


def explain_one(text: str, model: str, style: str, max_new_tokens: int, url: str | None, path: str | None,
                gguf_file: str | None) -> list[str]:
    """The lines to print for one sentence explained by a zoo model's generator."""
    from .. import zoo

    classifier, _ = zoo.load(model)
    e = explain(classifier, [text], generator=generator_for(url, path, gguf_file), style=style,
                max_new_tokens=max_new_tokens)[0]
    lines = [f"{model} predicts {e.label} (p = {e.probs[e.target]:.2f}); {e.extras['generator']} ({style}) says:",
             e.extras["text"] or "(nothing)", f"cited: {', '.join(e.extras['cited']) or '(no input word)'}"]
    if e.extras.get("generator_label") is not None:
        lines.append(f"the generator's own label: {e.extras['generator_label']}")
    if e.extras["flags"]:
        lines.append(f"flags: {', '.join(e.extras['flags'])}")
    return lines


def serve_until_interrupted(host: str, port: int, path: str | None, gguf_file: str | None, echo) -> None:
    """Serve a local model on host:port until Ctrl-C; ``echo`` prints the address."""
    server = serve(LocalGenerator(path, gguf_file), host=host, port=port)
    echo(f"serving {server.generator.name} at {server.url}/v1/chat/completions (Ctrl-C stops)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.close()

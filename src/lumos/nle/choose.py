"""Which generator a user means: an OpenAI-compatible endpoint by URL, or a local model by path."""

from __future__ import annotations

from ..errors import InputError
from .endpoint import EndpointGenerator
from .local import LocalGenerator


def generator_for(url: str | None = None, path: str | None = None, gguf_file: str | None = None,
                  timeout: float = 60.0) -> EndpointGenerator | LocalGenerator:
    """An EndpointGenerator for ``url``, else a LocalGenerator for ``path`` (default SmolLM2)."""
    if url and path:
        raise InputError("pass --url (an OpenAI-compatible endpoint) or --path (a local model), not both.")
    return EndpointGenerator(url, timeout=timeout) if url else LocalGenerator(path, gguf_file)

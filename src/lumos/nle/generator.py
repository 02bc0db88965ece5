"""What every generator gives: chat prompts in, one completion per prompt out, batched."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

Messages = list[dict[str, str]]


@dataclass(frozen=True)
class Completion:
    """One generated answer and its token counts (``None`` where the generator does not say)."""

    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class Generator(Protocol):
    """``name`` for the record; ``context_length`` in tokens (None: unknown, prompts are not cut)."""

    name: str
    context_length: int | None

    def count_tokens(self, messages: Messages) -> int: ...

    def generate(self, conversations: Sequence[Messages], max_new_tokens: int = 60, temperature: float = 0.0,
                 seed: int = 0) -> list[Completion]: ...
    # optional: ``generate(..., done=f)`` calling f(k) as k more completions finish (``lumos.nle.explain``
    # shows progress with it; generators without the keyword are run without progress)

"""What every generator gives: chat prompts in, one completion per prompt out, batched."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Sequence

Messages = list[dict[str, str]]


@dataclass(frozen=True)
class Completion:
    """One generated answer and its token counts (``None`` where the generator does not say)."""

    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


def generate_checked(generator: "Generator", conversations: Sequence[Messages], max_new_tokens: int,
                     temperature: float, seed: int, **options: Any) -> list[Completion]:
    """``generator.generate`` with its answer checked: exactly one Completion (or string) per conversation,
    else a ModelError that says how many came back (never fewer explanations than inputs). ``options`` (e.g.
    ``done=`` for progress) go to ``generate`` as they are."""
    from ..errors import ModelError

    out = generator.generate(list(conversations), max_new_tokens, temperature, seed, **options)
    try:
        if isinstance(out, (str, bytes, dict)):
            raise TypeError
        out = list(out)
    except TypeError:
        raise ModelError(f"generator {getattr(generator, 'name', type(generator).__name__)!r} returned "
                         f"{type(out).__name__}, not a list of completions.") from None
    if len(out) != len(conversations):
        raise ModelError(f"generator {getattr(generator, 'name', type(generator).__name__)!r} returned {len(out)} "
                         f"answers for {len(conversations)} prompts; a generator must answer every prompt.")
    checked = []
    for i, c in enumerate(out):
        if isinstance(c, str):
            c = Completion(c)
        if not isinstance(c, Completion) or not isinstance(c.text, str):
            raise ModelError(f"generator answer {i} is {c!r}; expected a Completion (or a string).")
        checked.append(c)
    return checked


class Generator(Protocol):
    """``name`` for the record; ``context_length`` in tokens (None: unknown, prompts are not cut)."""

    name: str
    context_length: int | None

    def count_tokens(self, messages: Messages) -> int: ...

    def generate(self, conversations: Sequence[Messages], max_new_tokens: int = 60, temperature: float = 0.0,
                 seed: int = 0) -> list[Completion]: ...
    # optional: ``generate(..., done=f)`` calling f(k) as k more completions finish (``lumos.nle.explain``
    # shows progress with it; generators without the keyword are run without progress)

"""Prompt templates (editable text files) and fitting a prompt into the generator's context.

A template is a text file whose ``{placeholders}`` are filled per input: ``{text}`` (the input, possibly cut
to fit), ``{label}`` (the class being explained), ``{labels}`` ("negative or positive"), ``{words}`` (top
words of an attribution) and ``{explanation}`` (simulatability prompts). The shipped ones live in
``lumos/nle/prompts/``; copy one, edit it, and pass its path as ``template=``.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from ..errors import InputError

STYLES = ("free", "attribution", "self_rationalise")
FIELDS = ("text", "label", "labels", "words", "explanation")


def template_path(name: str) -> Path:
    """Path of a shipped template ("free", "attribution", "self_rationalise", "simulate", "simulate_baseline")."""
    path = Path(str(resources.files("lumos.nle") / "prompts" / f"{name}.txt"))
    if not path.is_file():
        shipped = sorted(p.stem for p in path.parent.glob("*.txt"))
        raise InputError(f"no shipped prompt template {name!r}; shipped: {', '.join(shipped)}. Pass a file path "
                         "or the template text itself to use your own.")
    return path


def load_template(template: str | Path) -> str:
    """A shipped template name, a file path, or template text (anything containing "{") -> template text."""
    if isinstance(template, Path) or ("{" not in str(template) and Path(str(template)).suffix):
        path = Path(template)
        if not path.is_file():
            raise InputError(f"prompt template file {str(path)!r} does not exist.")
        text = path.read_text(encoding="utf-8")
    elif "{" in str(template):
        text = str(template)
    else:
        text = template_path(str(template)).read_text(encoding="utf-8")
    used = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    unknown = used - set(FIELDS)
    if unknown:
        raise InputError(f"prompt template uses unknown placeholder(s) {sorted(unknown)}; known: {', '.join(FIELDS)}.")
    return text.strip()


def needs(template: str, field: str) -> bool:
    return any(f == field for _, f, _, _ in string.Formatter().parse(template))


def join_labels(labels: list[str]) -> str:
    return ", ".join(labels[:-1]) + f" or {labels[-1]}" if len(labels) > 1 else labels[0]


class Counts(Protocol):
    context_length: int | None

    def count_tokens(self, messages: list[dict[str, str]]) -> int: ...


@dataclass(frozen=True)
class Prompt:
    """One chat prompt: ``messages`` for the generator; ``kept_words`` of the input's words made it in."""

    messages: list[dict[str, str]]
    kept_words: int
    total_words: int

    @property
    def text(self) -> str:
        return self.messages[-1]["content"]

    @property
    def truncated(self) -> bool:
        return self.kept_words < self.total_words


def fit(template: str, text: str, fields: dict[str, Any], generator: Counts, max_new_tokens: int) -> Prompt:
    """Fill ``template``; when prompt + ``max_new_tokens`` exceeds the generator's context, keep the longest
    prefix of the input's words that fits (binary search over the word count)."""
    words = text.split()

    def render(n: int) -> list[dict[str, str]]:
        cut = " ".join(words[:n]) + (" ..." if n < len(words) else "")
        return [{"role": "user", "content": template.format(**{**fields, "text": cut})}]

    budget = None if generator.context_length is None else generator.context_length - max_new_tokens
    if budget is None or generator.count_tokens(render(len(words))) <= budget:
        return Prompt(render(len(words)), len(words), len(words))
    lo, hi = 0, len(words)  # render(lo) fits (checked below), render(hi) does not
    if generator.count_tokens(render(0)) > budget:
        raise InputError(f"the prompt template alone needs more than the generator's context of "
                         f"{generator.context_length} tokens minus max_new_tokens={max_new_tokens}; shorten the "
                         "template or lower max_new_tokens.")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if generator.count_tokens(render(mid)) <= budget else (lo, mid)
    return Prompt(render(lo), lo, len(words))

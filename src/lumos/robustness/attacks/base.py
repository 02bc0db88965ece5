"""The attack base: a frozen dataclass of hyper-parameters with a per-sentence query ``budget`` (model rows),
target resolution, skipping of already-wrong sentences, and row accounting against the model's counter."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Sequence

import numpy as np

from ...errors import InputError, UnsupportedError
from ...models import Model, wrap
from .result import AttackResult

_CORE = re.compile(r"^(\W*)(.*?)(\W*)$", re.DOTALL)


def split_core(word: str) -> tuple[str, str, str]:
    """'"Great,' -> ('"', 'Great', ','): the punctuation around a whitespace word and its core."""
    m = _CORE.match(word)
    return m.group(1), m.group(2), m.group(3)  # type: ignore[union-attr]


def match_case(new: str, like: str) -> str:
    """``new`` with the capitalisation pattern of ``like`` (all caps, first capital, or as is)."""
    if like.isupper() and len(like) > 1:
        return new.upper()
    if like[:1].isupper():
        return new[:1].upper() + new[1:]
    return new


@dataclass(frozen=True)
class Attack:
    """Subclasses add their hyper-parameters and implement ``_attack``. ``budget``: the most model rows an
    attack may spend on one sentence (its first prediction included); it is required to be a positive int so
    that no attack runs unbounded."""

    budget: int = 500
    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    modalities: ClassVar[tuple[str, ...]] = ("text",)
    requires: ClassVar[tuple[str, ...]] = ()  # model capabilities the attack needs (lumos.models.CAPABILITIES)

    def __post_init__(self) -> None:
        if isinstance(self.budget, bool) or not isinstance(self.budget, (int, np.integer)) or self.budget < 1:
            raise InputError(f"{self.name or type(self).__name__}: budget must be a positive int (model rows per "
                             f"sentence); got {self.budget!r}.")

    @classmethod
    def info(cls) -> dict[str, Any]:
        return {"summary": cls.summary, "modalities": cls.modalities,
                "params": {f.name: f.default for f in dataclasses.fields(cls)}, "requires": cls.requires}

    @classmethod
    def applies_to(cls, model: Model, modality: str) -> bool:
        return modality in cls.modalities and model.can(*cls.requires)

    def run(self, model: Any, texts: Sequence[str], labels: Sequence[int] | None = None,
            seed: int = 0) -> AttackResult:
        """Attack every sentence; ``labels`` (true classes) default to the model's predictions. Sentences the
        model already gets wrong are skipped (1 query each)."""
        model = wrap(model)
        texts = list(texts)
        if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
            raise InputError(f"{self.name}: texts must be a non-empty list of non-empty strings; got "
                             f"{len(texts)} items of types {sorted({type(t).__name__ for t in texts})}.")
        if labels is not None and len(labels) != len(texts):
            raise InputError(f"{self.name}: got {len(labels)} labels for {len(texts)} texts; pass one per text.")
        if "gradients" in self.requires and not model.supports_gradients:
            raise UnsupportedError(f"{self.name} needs gradients, and {type(model).__name__} gives none; use "
                                   "textfooler or deepwordbug, which need only predictions.")
        recipe = self.resolved(model)
        before = model.counts.rows
        with model.session():
            examples = recipe._attack(model, texts, None if labels is None else [int(y) for y in labels], int(seed))
        params = {f.name: getattr(recipe, f.name) for f in dataclasses.fields(recipe) if f.name != "vocabulary"}
        params["seed"] = int(seed)
        return AttackResult(self.name, int(self.budget), examples, model.counts.rows - before, params)

    def resolved(self, model: Model) -> "Attack":
        """The recipe with any "auto" setting decided for ``model`` (default: itself)."""
        return self

    def _attack(self, model: Model, texts: list[str], labels: list[int] | None, seed: int) -> list:
        raise NotImplementedError

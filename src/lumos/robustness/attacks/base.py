"""The attack base: a frozen dataclass of hyper-parameters with a per-sentence query ``budget`` (model rows),
target resolution, skipping of already-wrong sentences, and row accounting against the model's counter."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Sequence

import numpy as np

from ...errors import InputError, UnsupportedError
from ...features.text import check_texts
from ...models import Model, wrap
from ...params import SEED, Int, check, constraints, param, validate
from ...progress import ProgressArg, run_chunked
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

    budget: int = param(500, Int(low=1))
    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    modalities: ClassVar[tuple[str, ...]] = ("text",)
    requires: ClassVar[tuple[str, ...]] = ()  # model capabilities the attack needs (lumos.models.CAPABILITIES)

    def __post_init__(self) -> None:
        validate(self)

    @classmethod
    def info(cls) -> dict[str, Any]:
        return {"summary": cls.summary, "modalities": cls.modalities,
                "params": {f.name: f.default for f in dataclasses.fields(cls)}, "requires": cls.requires,
                "constraints": {k: c.describe() for k, c in constraints(cls).items() if c is not None}}

    @classmethod
    def applies_to(cls, model: Model, modality: str) -> bool:
        return modality in cls.modalities and model.can(*cls.requires)

    def run(self, model: Any, texts: Sequence[str], labels: Sequence[int] | None = None,
            seed: int = 0, progress: ProgressArg = None) -> AttackResult:
        """Attack every sentence; ``labels`` (true classes) default to the model's predictions. Sentences the
        model already gets wrong are skipped (1 query each). ``progress``: as in ``lumos.explain`` (sentences
        are attacked in pieces; each sentence's result does not depend on the others)."""
        model = wrap(model)
        texts = check_texts(texts)
        check(self.name, "seed", seed, SEED)
        if labels is not None and (isinstance(labels, str) or not hasattr(labels, "__len__")):
            raise InputError(f"{self.name}: labels must be a list with one class (index or name) per text; got "
                             f"{labels!r}.")
        if labels is not None and len(labels) != len(texts):
            raise InputError(f"{self.name}: got {len(labels)} labels for {len(texts)} texts; pass one per text.")
        if not self.applies_to(model, "text"):
            has = ", ".join(sorted(model.capabilities)) or "only predictions"
            raise UnsupportedError(f"{self.name} needs {' and '.join(self.requires)} of the model, and "
                                   f"{type(model).__name__} has {has}; use textfooler or deepwordbug, which need "
                                   "only predictions.")
        recipe = self.resolved(model)
        before = model.counts.rows
        y = None if labels is None else list(labels)
        examples: list = []

        def work(lo: int, hi: int) -> None:
            examples.extend(recipe._attack(model, texts[lo:hi], None if y is None else y[lo:hi], int(seed)))

        with model.session():
            run_chunked(len(texts), work, progress, f"attack {self.name}", unit="sentences")
        params = {f.name: getattr(recipe, f.name) for f in dataclasses.fields(recipe) if f.name != "vocabulary"}
        params["seed"] = int(seed)
        return AttackResult(self.name, int(self.budget), examples, model.counts.rows - before, params)

    def resolved(self, model: Model) -> "Attack":
        """The recipe with any "auto" setting decided for ``model`` (default: itself)."""
        return self

    def true_labels(self, model: Model, probs: np.ndarray, labels: Sequence | None) -> np.ndarray:
        """(B,) class indices: ``labels`` (indices or label names) checked against the model, or the predictions."""
        from ...api import resolve_targets

        return resolve_targets(labels, probs, model.labels, what=f"{self.name}: label", broadcast=False)

    def _attack(self, model: Model, texts: list[str], labels: Sequence | None, seed: int) -> list:
        raise NotImplementedError

"""Adversarial text attacks as recipes, each with a query budget: ``attack(model, texts, "textfooler")``."""

from __future__ import annotations

from typing import Any, Sequence

from ... import registry
from ...errors import InputError
from .base import Attack
from .deepwordbug import DeepWordBug
from .hotflip import HotFlip
from .result import AdversarialExample, AttackResult
from .textfooler import TextFooler
from .vocabulary import STOP_WORDS, WordVocabulary, vocabulary_of

__all__ = ["attack", "attacks", "Attack", "AttackResult", "AdversarialExample", "TextFooler", "HotFlip",
           "DeepWordBug", "WordVocabulary", "vocabulary_of", "STOP_WORDS"]


def attacks() -> dict[str, dict[str, Any]]:
    """Every registered attack recipe with its summary and default hyper-parameters."""
    return registry.describe("attack")


def attack(model: Any, texts: Sequence[str], recipe: str = "textfooler", labels: Sequence[int] | None = None,
           budget: int = 500, seed: int = 0, **params: Any) -> AttackResult:
    """Run one recipe on ``texts`` with at most ``budget`` model rows per sentence; ``labels``: true classes
    (default: the model's predictions). ``params``: the recipe's hyper-parameters (see ``attacks()``)."""
    cls = registry.get(recipe, "attack")
    known = [f for f in cls.info()["params"] if f != "budget"]
    unknown = [k for k in params if k not in known]
    if unknown:
        raise InputError(f"{recipe} has no parameter {unknown[0]!r}; its parameters: {', '.join(known)}.")
    return cls(budget=budget, **params).run(model, texts, labels, seed)

"""Adversarial text attacks, each with a query budget: ``attack(model, texts, method="textfooler")``."""

from __future__ import annotations

from typing import Any, Sequence

from ... import registry
from ...deprecation import renamed_keywords
from .base import Attack
from .deepwordbug import DeepWordBug
from .hotflip import HotFlip
from .result import AdversarialExample, AttackResult
from .textfooler import TextFooler
from .vocabulary import STOP_WORDS, WordVocabulary, vocabulary_of

__all__ = ["attack", "attacks", "Attack", "AttackResult", "AdversarialExample", "TextFooler", "HotFlip",
           "DeepWordBug", "WordVocabulary", "vocabulary_of", "STOP_WORDS"]


def attacks() -> dict[str, dict[str, Any]]:
    """Every registered attack with its summary and default hyper-parameters (``lumos.catalog("attack")``)."""
    return registry.describe("attack")


@renamed_keywords(recipe="method")
def attack(model: Any, texts: Sequence[str], method: str = "textfooler", labels: Sequence[int] | None = None,
           budget: int = 500, seed: int = 0, **params: Any) -> AttackResult:
    """Run one attack ``method`` on ``texts`` with at most ``budget`` model rows per sentence; ``labels``: true
    classes (default: the model's predictions). ``params``: the method's hyper-parameters (see ``attacks()``)."""
    cls = registry.get(method, "attack")
    registry.check_params(method, params, [f for f in cls.info()["params"] if f != "budget"])
    return cls(budget=budget, **params).run(model, texts, labels, seed)

"""TextFooler-style attack: greedy word substitution, words ranked by importance, candidates the nearest
neighbours of each word in the victim's own input-embedding space (nothing downloaded)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ...models import Model
from ...params import AnyOf, Choice, Float, Instance, Int, Optional, Registered, param
from ...registry import register
from .base import split_core
from .first_order import estimate_rows, swap_gains
from .greedy import GreedyWordSwap, _Search
from .vocabulary import WordVocabulary, vocabulary_of


@register("textfooler", kind="attack")
@dataclass(frozen=True)
class TextFooler(GreedyWordSwap):
    """``max_candidates`` neighbours per word with cosine >= ``min_similarity``; ``vocabulary``: word vectors
    to take them from (default: the victim's whole-word input embeddings, stop words excluded).
    ``candidate_order``: "similarity" (nearest first) or "gradient" (largest first-order drop of the true
    logit first; one gradient row per sentence, shared with ``importance="gradient"``, which ranks words by
    their best estimated swap instead of leave-one-out). "auto" (both): "gradient" when the model gives
    gradients, else "similarity" and "leave_one_out". TextAttack's TextFooler is ``importance=
    "leave_one_out", candidate_order="similarity", chunk_size=None, max_tries=None``."""

    max_candidates: int = param(50, Int(low=1))
    min_similarity: float = param(0.4, Float(low=-1, high=1))
    candidate_order: str = param("auto", Choice("auto", "similarity", "gradient"))
    importance: str = param("auto", AnyOf(Choice("auto", "leave_one_out", "gradient"), Registered("explainer")))
    chunk_size: int | None = param(2, Optional(Int(low=1)))
    max_tries: int | None = param(8, Optional(Int(low=1)))
    vocabulary: WordVocabulary | None = param(None, Optional(Instance("a WordVocabulary", kind=WordVocabulary)))
    summary = "greedy word substitution with embedding-neighbour candidates (Jin et al., 2020)"

    def candidates(self, model: Model, core: str, seed: int) -> list[str]:
        vocab = self.vocabulary if self.vocabulary is not None else vocabulary_of(model)
        return [w for w, _ in vocab.neighbours(core.lower(), self.max_candidates, self.min_similarity)]

    def resolved(self, model: Model) -> "TextFooler":
        """The recipe with "auto" settings decided for ``model``."""
        grad = model.supports_gradients
        return replace(self, candidate_order=("gradient" if grad else "similarity") if self.candidate_order == "auto"
                       else self.candidate_order,
                       importance=("gradient" if grad else "leave_one_out") if self.importance == "auto"
                       else self.importance)

    def _prior(self, model: Model, active: list[_Search], options: dict[int, dict[int, list[str]]]) -> None:
        if not active or "gradient" not in (self.importance, self.candidate_order):
            return
        vocab = self.vocabulary if self.vocabulary is not None else vocabulary_of(model)
        cost = estimate_rows(model)
        gains = swap_gains(model, vocab, [s.words for s in active], np.array([s.label for s in active]))
        for s, (rows, delta) in zip(active, gains):
            s.queries += cost
            mine, best = options[s.index], {}
            for r, j in enumerate(rows):
                if j not in mine:
                    continue
                est = np.array([delta[r, vocab.index[split_core(c)[1].lower()]] for c in mine[j]])
                if self.candidate_order == "gradient":
                    mine[j] = [mine[j][k] for k in np.argsort(est, kind="stable")]
                best[j] = float(est.min())
            if self.importance == "gradient":
                s.order = sorted(mine, key=lambda j: best.get(j, np.inf))

"""Greedy word-swap search with word-importance ranking (the search of TextFooler and DeepWordBug).

All sentences advance in lock step: each round sends every active sentence's next candidates through the model
in one call. Per sentence: rank the modifiable words (leave-one-out, or a lumos explainer), then walk them in
order; at each word try its candidates (``chunk_size`` at a time, most plausible first), stop at the first
round that flips the prediction, otherwise keep the best swap if it lowered the true class's probability.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...errors import InputError
from ...models import Model
from ...params import AnyOf, Choice, Int, Optional, Registered, param
from .base import Attack, match_case, split_core
from .result import AdversarialExample
from .vocabulary import STOP_WORDS


@dataclass
class _Search:
    """The state of one sentence's search."""

    index: int
    text: str
    words: list[str]
    label: int
    probs: np.ndarray
    queries: int = 1
    order: list[int] = field(default_factory=list)
    next_rank: int = 0
    current: int = -1
    second_pass: bool = False
    pending: list[list[str]] = field(default_factory=list)
    best: tuple[float, list[str], np.ndarray] | None = None
    changed: set[int] = field(default_factory=set)
    status: str = ""

    @property
    def score(self) -> float:
        return float(self.probs[self.label])


@dataclass(frozen=True)
class GreedyWordSwap(Attack):
    """``importance``: "leave_one_out" (delete each word; one row per modifiable word) or the name of a lumos
    explainer (its rows are shared evenly among the sentences it explained). ``chunk_size``: candidates tried
    per round at one word (None: all of them at once); a flip ends the search after that round.
    ``max_tries``: most candidates tried per word in a first pass over the ranked words (None: all); when that
    pass ends without a flip and budget is left, a second pass tries the rest. ``max_changes``: most words
    changed."""

    importance: str = param("leave_one_out", AnyOf(Choice("leave_one_out", "gradient"), Registered("explainer")))
    chunk_size: int | None = param(None, Optional(Int(low=1)))
    max_tries: int | None = param(None, Optional(Int(low=1)))
    max_changes: int | None = param(None, Optional(Int(low=1)))

    def candidates(self, model: Model, core: str, seed: int) -> list[str]:
        """Replacement cores for one word core, most plausible first (no model calls)."""
        raise NotImplementedError

    def _modifiable(self, model: Model, words: list[str], seed: int) -> dict[int, list[str]]:
        out = {}
        for j, w in enumerate(words):
            pre, core, post = split_core(w)
            if not core or core.lower() in STOP_WORDS:
                continue
            subs = [pre + match_case(c, core) + post for c in self.candidates(model, core, seed)]
            subs = [s for s in dict.fromkeys(subs) if s != w]
            if subs:
                out[j] = subs
        return out

    def _attack(self, model: Model, texts: list[str], labels: list[int] | None, seed: int) -> list:
        p0 = model.evaluate(texts)
        ys = self.true_labels(model, p0, labels)
        searches = [_Search(i, t, t.split(), int(ys[i]), p0[i]) for i, t in enumerate(texts)]
        active = [s for s in searches if s.probs.argmax() == s.label]
        for s in searches:
            if s.probs.argmax() != s.label:
                s.status = "skipped"
        options = {s.index: self._modifiable(model, s.words, seed) for s in active}
        self._prior(model, active, options)
        self._rank(model, active, options)
        while active:
            rows, owners = [], []
            for s in active:
                self._advance(s, options[s.index])
                if s.status:
                    continue
                take = s.pending[:min(self.chunk_size or len(s.pending), self.budget - s.queries)]
                del s.pending[:len(take)]
                rows += [" ".join(w) for w in take]
                owners.append((s, take))
            if rows:
                probs = model.evaluate(rows)
                lo = 0
                for s, take in owners:
                    self._update(s, take, probs[lo:lo + len(take)])
                    lo += len(take)
            active = [s for s in active if not s.status]
        return [self._record(s, p0[s.index]) for s in searches]

    def _prior(self, model: Model, active: list[_Search], options: dict[int, dict[int, list[str]]]) -> None:
        """Subclasses may reorder candidates or rank words here (e.g. from gradients) before the search."""

    def _rank(self, model: Model, active: list[_Search], options: dict[int, dict[int, list[str]]]) -> None:
        """Order each sentence's modifiable words, most important first."""
        if self.importance == "gradient":
            if type(self)._prior is GreedyWordSwap._prior:
                raise InputError(f"{self.name} cannot rank words by gradient; use importance='leave_one_out' "
                                 "or a lumos explainer name.")
            return  # ranked in _prior
        if not active:
            return
        if self.importance == "leave_one_out":
            rows, owners = [], []
            for s in active:
                positions = list(options[s.index])[:max(self.budget - s.queries, 0)]
                rows += [" ".join(s.words[:j] + s.words[j + 1:]) or "." for j in positions]
                owners.append((s, positions))
            probs = model.evaluate(rows) if rows else np.zeros((0, len(active[0].probs)))
            lo = 0
            for s, positions in owners:
                drop = s.score - probs[lo:lo + len(positions), s.label]
                lo += len(positions)
                s.queries += len(positions)
                ranked = [positions[k] for k in np.argsort(-drop, kind="stable")]
                s.order = ranked + [j for j in options[s.index] if j not in positions]
            return
        from ...api import explain

        left = self.budget - max(s.queries for s in active) - 1  # keep a row for at least one candidate
        before = model.counts.rows
        expl = explain(model, [s.text for s in active], method=self.importance, target=[s.label for s in active],
                       **_budgeted(self.importance, left))
        share = -(-(model.counts.rows - before) // len(active))
        if share > left:
            raise InputError(f"{self.name}: importance={self.importance!r} spends {share} model rows per sentence, "
                             f"more than the budget of {self.budget} leaves for it ({left}); raise budget, or use "
                             "importance='leave_one_out'.")
        for s, e in zip(active, expl):
            a = np.full(len(s.words), -np.inf)
            a[:len(e.attributions)] = e.attributions
            s.queries += share
            s.order = sorted(options[s.index], key=lambda j: -a[j])

    def _advance(self, s: _Search, options: dict[int, list[str]]) -> None:
        """Move to the next word when the current one has no untried candidates; end the search when out of
        words, changes or budget."""
        while not s.pending:
            self._settle(s)
            if self.max_changes is not None and len(s.changed) >= self.max_changes:
                s.status = "failed"
                return
            while s.next_rank < len(s.order) and s.order[s.next_rank] in s.changed:
                s.next_rank += 1
            if s.next_rank >= len(s.order):
                if s.second_pass or self.max_tries is None:
                    s.status = "failed"
                    return
                s.second_pass, s.next_rank = True, 0  # every word again, with the candidates past max_tries
                continue
            j = s.order[s.next_rank]
            s.next_rank += 1
            s.current = j
            tries = options[j][self.max_tries:] if s.second_pass else options[j][:self.max_tries]
            s.pending = [s.words[:j] + [c] + s.words[j + 1:] for c in tries]
        if s.queries >= self.budget:
            s.status = "failed"

    def _update(self, s: _Search, tried: list[list[str]], probs: np.ndarray) -> None:
        s.queries += len(tried)
        p_true = probs[:, s.label]
        flipped = np.flatnonzero(probs.argmax(1) != s.label)
        if len(flipped):
            k = flipped[np.argmin(p_true[flipped])]
            s.words, s.probs, s.status = tried[k], probs[k], "succeeded"
            return
        k = int(np.argmin(p_true))
        if s.best is None or p_true[k] < s.best[0]:
            s.best = (float(p_true[k]), tried[k], probs[k])

    def _settle(self, s: _Search) -> None:
        """After a word's candidates are all tried: keep its best swap if it lowered the true class."""
        if s.best is not None and s.best[0] < s.score:
            _, s.words, s.probs = s.best
            s.changed.add(s.current)
        s.best = None

    def _record(self, s: _Search, p_orig: np.ndarray) -> AdversarialExample:
        original = s.text.split()
        changed = [j for j, (a, b) in enumerate(zip(original, s.words)) if a != b]
        return AdversarialExample(s.text, " ".join(s.words) if changed else s.text, s.label, p_orig.tolist(),
                                  s.probs.tolist(), s.status, s.queries, changed)


def _budgeted(method: str, rows: int) -> dict:
    """The explainer's sampling budget (``n_samples`` or ``steps``) cut to fit ``rows`` model rows per sentence
    (never below its minimum: a budget too small for the method is then refused after one try)."""
    from ... import registry
    from ...params import Int, constraints

    rules = constraints(registry.get(method))
    out = {}
    for field, overhead in (("n_samples", 1), ("steps", 3)):
        rule = rules.get(field)
        if isinstance(rule, Int):
            default = registry.get(method).info()["params"][field]
            out[field] = max(rule.low or 1, min(default, rows - overhead))
    return out

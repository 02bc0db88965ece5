"""HotFlip-style attack: gradient-guided word flips. Each round takes the gradient of the true class's logit
with respect to the input embeddings (one row per sentence), estimates every whole-word swap's effect to first
order, ``g_t . (e_new - e_old)``, tries the ``n_candidates`` most promising in one batch and keeps the best."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import InputError
from ...models import Model
from ...registry import register
from .base import Attack, split_core
from .first_order import swap_gains
from .result import AdversarialExample
from .vocabulary import vocabulary_of


@register("hotflip", kind="attack")
@dataclass(frozen=True)
class HotFlip(Attack):
    """``n_candidates``: swaps tried per round (the best first-order estimates over all words); ``max_flips``:
    most words changed; ``min_similarity``: cosine floor between a word and its replacement in the victim's
    embedding space."""

    n_candidates: int = 10
    max_flips: int = 5
    min_similarity: float = 0.3
    summary = "gradient-guided word flips (Ebrahimi et al., 2018), whole-word vocabulary of the victim"
    requires = ("gradients", "token_embeddings")

    def _attack(self, model: Model, texts: list[str], labels: list[int] | None, seed: int) -> list:
        vocab = vocabulary_of(model)
        p0 = model.evaluate(texts)
        ys = p0.argmax(1) if labels is None else np.asarray(labels)
        if ys.min() < 0 or ys.max() >= p0.shape[1]:
            raise InputError(f"hotflip: labels must lie in 0..{p0.shape[1] - 1}; got {sorted(set(ys.tolist()))}.")
        state = [{"words": t.split(), "probs": p0[i], "queries": 1, "changed": set(), "tried": set(),
                  "status": "" if p0[i].argmax() == ys[i] else "skipped", "estimates": None}
                 for i, t in enumerate(texts)]
        while True:
            active = [i for i, s in enumerate(state) if not s["status"]]
            for i in active:
                s = state[i]
                needed = 1 + (s["estimates"] is None)  # a gradient row (when stale) and one candidate
                if len(s["changed"]) >= self.max_flips or s["queries"] + needed > self.budget:
                    s["status"] = "failed"
            need_grad = [i for i in active if not state[i]["status"] and state[i]["estimates"] is None]
            if need_grad:
                self._estimate(model, vocab, [state[i] for i in need_grad], ys[need_grad])
            rows, owners = [], []
            for i in active:
                s = state[i]
                if s["status"]:
                    continue
                flips = self._next_flips(s, self.budget - s["queries"])
                if not flips:
                    s["status"] = "failed"
                    continue
                for j, c in flips:
                    s["tried"].add((j, c))
                rows += [" ".join(self._swap(s["words"], j, vocab.words[c])) for j, c in flips]
                owners.append((i, flips))
            if not owners:
                break
            probs = model.evaluate(rows)
            lo = 0
            for i, flips in owners:
                self._update(state[i], int(ys[i]), flips, probs[lo:lo + len(flips)], vocab)
                lo += len(flips)
        return [AdversarialExample(t, " ".join(s["words"]) if s["changed"] else t, int(ys[i]), p0[i].tolist(),
                                   s["probs"].tolist(), s["status"], s["queries"], sorted(s["changed"]))
                for i, (t, s) in enumerate(zip(texts, state))]

    @staticmethod
    def _swap(words: list[str], j: int, new: str) -> list[str]:
        pre, core, post = split_core(words[j])
        new = new[:1].upper() + new[1:] if core[:1].isupper() else new
        return words[:j] + [pre + new + post] + words[j + 1:]

    def _estimate(self, model: Model, vocab, states: list[dict], ys: np.ndarray) -> None:
        """One gradient row per sentence -> (words, V) first-order change of the true logit per swap."""
        gains = swap_gains(model, vocab, [s["words"] for s in states], ys, [s["changed"] for s in states])
        for s, (rows, delta) in zip(states, gains):
            s["queries"] += 1
            word_ids = [vocab.index[split_core(s["words"][j])[1].lower()] for j in rows]
            similar = vocab.unit[word_ids] @ vocab.unit.T >= self.min_similarity
            similar[np.arange(len(word_ids)), word_ids] = False
            s["estimates"] = (rows, np.where(similar, delta, np.inf))

    def _next_flips(self, s: dict, remaining: int) -> list[tuple[int, int]]:
        """The untried (word index, vocabulary index) swaps with the lowest estimated true logit."""
        rows, est = s["estimates"]
        n = min(self.n_candidates, remaining)
        if n <= 0 or est.size == 0:
            return []
        flat = np.argsort(est, axis=None, kind="stable")
        out = []
        for f in flat:
            r, c = divmod(int(f), est.shape[1])
            if not np.isfinite(est[r, c]):
                break
            if (int(rows[r]), c) not in s["tried"]:
                out.append((int(rows[r]), c))
                if len(out) == n:
                    break
        return out

    def _update(self, s: dict, y: int, flips: list[tuple[int, int]], probs: np.ndarray, vocab) -> None:
        s["queries"] += len(flips)
        p_true = probs[:, y]
        flipped = np.flatnonzero(probs.argmax(1) != y)
        k = int(flipped[np.argmin(p_true[flipped])]) if len(flipped) else int(np.argmin(p_true))
        if len(flipped) or p_true[k] < s["probs"][y]:
            j, c = flips[k]
            s["words"] = self._swap(s["words"], j, vocab.words[c])
            s["changed"].add(j)
            s["probs"] = probs[k]
            s["estimates"], s["tried"] = None, set()  # a new sentence: fresh gradient, every swap untried
            if len(flipped):
                s["status"] = "succeeded"

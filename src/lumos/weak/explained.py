"""LFs derived from explanations: the words a model's attributions mark as predictive, across many texts,
become keyword LFs a person can read, edit and keep (leaving out words known to be artifacts)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..results import Result
from .builders import keyword_lf
from .lf import LabelingFunction

_EDGE = re.compile(r"^\W+|\W+$")


def normalise(word: str) -> str:
    """A word as the keyword tables count it: lower case, punctuation stripped from both ends."""
    return _EDGE.sub("", str(word).lower())


def excluded_words(exclude: Iterable[Any], artifacts_top: int = 1) -> set[str]:
    """The words to leave out of keyword LFs: each string in ``exclude`` (normalised), and the words of the top
    ``artifacts_top`` candidates of each discoverer's ``Findings`` in it (an n-gram key "not bad" excludes
    "not" and "bad"; a table value such as "age = 40" has no words and is skipped)."""
    if isinstance(exclude, str) or hasattr(exclude, "candidates"):
        exclude = [exclude]
    words: set[str] = set()
    for item in exclude:
        if hasattr(item, "candidates"):
            words |= {normalise(w) for c in item.candidates[:artifacts_top] if c.kind in ("token", "ngram")
                      for w in c.key.split()}
        else:
            words.add(normalise(item))
    return words - {""}


@dataclass
class GlobalAttribution(Result):
    """Per word and class: the mean attribution towards the class over the texts that contain the word.

    ``frame``: word, class, score, count (texts containing the word), sorted by class then score.
    ``classes``: the class names. ``params``: method, texts (how many were explained), min_count, seed and
    the explainer's parameters.
    """

    frame: pd.DataFrame
    classes: list[str]
    params: dict[str, Any] = field(default_factory=dict)

    def top(self, target: Any, k: int = 20, exclude: Iterable[Any] = (), min_score: float = 0.0,
            artifacts_top: int = 1) -> list[str]:
        """The ``k`` words with the highest score above ``min_score`` (>= 0) for class ``target`` (a name or
        index), minus ``exclude``: words, and/or the ``Findings`` of artifact discoverers, whose top
        ``artifacts_top`` candidates are left out (``excluded_words``)."""
        name = self.classes[target] if isinstance(target, (int, np.integer)) else str(target)
        if name not in self.classes:
            raise InputError(f"unknown class {target!r}; classes: {', '.join(self.classes)}.")
        drop = excluded_words(exclude, artifacts_top)
        rows = self.frame[(self.frame["class"] == name) & (self.frame["score"] > max(min_score, 0.0))
                          & ~self.frame["word"].isin(drop)]
        return rows["word"].head(k).tolist()

    def keyword_lfs(self, k: int = 20, exclude: Iterable[Any] = (), min_score: float = 0.0,
                    column: str = "text", artifacts_top: int = 1) -> list[LabelingFunction]:
        """One keyword LF per class from its top ``k`` words scoring above ``min_score``. ``exclude``: words you
        rejected, and/or what artifact discoverers found (``Findings`` of ``lumos.artifacts.statistics`` and the
        others: the words of their top ``artifacts_top`` candidates are left out, so no LF fires on a suspected
        artifact; only the first by default: discoverers rank genuine signal high too, so read
        ``findings.lines()`` and raise it, or list the words, when more of them are artifacts).
        Each LF's ``params["words"]`` lists its words for review; edit them and rebuild with ``keyword_lf``."""
        exclude = sorted(excluded_words(exclude, artifacts_top))
        out = []
        for name in self.classes:
            words = self.top(name, k, exclude, min_score)
            if words:
                lf = keyword_lf(words, name, name=f"explained_{name}", column=column)
                out.append(LabelingFunction(lf.name, lf.fn, True, "explained",
                                            {**lf.params, "method": self.params.get("method"), "min_score": min_score,
                                             "excluded": exclude}))
        return out

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def summary(self, k: int = 10) -> dict[str, Any]:
        """The top ``k`` words of each class."""
        return {name: self.top(name, k) for name in self.classes}


def global_attributions(model: Any, texts: Sequence[str], *, method: str = "occlusion", min_count: int = 5,
                        seed: int = 0, **params: Any) -> GlobalAttribution:
    """Explain ``texts`` with ``method`` towards every class and average each word's attribution per class over
    the texts containing it (words in fewer than ``min_count`` texts are left out).

    For two classes one pass suffices: the probabilities sum to 1, so the attribution towards class 0 is
    minus that towards class 1 (true for every lumos method, all linear in the explained output).
    """
    from ..api import explain
    from ..models import wrap

    wrapped = wrap(model)
    texts = [str(t) for t in texts]
    if not texts:
        raise InputError("global_attributions needs at least one text.")
    probe = wrapped.predict_proba(texts[:1])
    classes = list(wrapped.labels or [str(k) for k in range(probe.shape[1])])
    passes = [1] if len(classes) == 2 else list(range(len(classes)))
    rows = []
    for target in passes:
        expl = explain(wrapped, texts, method=method, target=target, seed=seed, **params)
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        for e in expl:
            per_text: dict[str, float] = {}
            for w, a in zip(e.features, np.asarray(e.attributions, dtype=np.float64)):
                key = normalise(w)
                if key:
                    per_text[key] = per_text.get(key, 0.0) + float(a)
            for key, a in per_text.items():
                sums[key] = sums.get(key, 0.0) + a
                counts[key] = counts.get(key, 0) + 1
        for key, total in sums.items():
            if counts[key] >= min_count:
                rows.append((key, classes[target], total / counts[key], counts[key]))
                if len(classes) == 2:
                    rows.append((key, classes[0], -total / counts[key], counts[key]))
    table = pd.DataFrame(rows, columns=["word", "class", "score", "count"])
    table = table.sort_values(["class", "score", "word"], ascending=[True, False, True]).reset_index(drop=True)
    return GlobalAttribution(table, classes, {"method": method, "texts": len(texts), "min_count": min_count,
                                              "seed": seed, **params})

"""Subpopulations (slices): defined by rules (length, contains a word, a feature range, a category) or
discovered (clusters of errors in embedding space; for tables, feature-value pairs with the worst accuracy).
Per slice: size, accuracy with a Wilson interval, expected calibration error with a bootstrap interval, and the
difference from the overall accuracy."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm as normal

from ..errors import InputError
from ..models import Model, wrap
from ..results import Result

Mask = Callable[[Any], np.ndarray]


# ----- rules ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """A named slice: ``mask(data)`` -> (N,) bool over the examples."""

    name: str
    mask: Mask


def _texts(data: Any) -> list[str]:
    if not isinstance(data, (list, tuple, pd.Series)):
        raise InputError(f"this rule applies to texts (a list of strings); got {type(data).__name__}.")
    return list(data)


def length(lo: int = 0, hi: int | None = None) -> Rule:
    """Texts of ``lo`` to ``hi`` whitespace words (inclusive)."""
    top = np.inf if hi is None else hi
    return Rule(f"{lo}+ words" if hi is None else f"{lo}-{hi} words",
                lambda d: np.array([lo <= len(t.split()) <= top for t in _texts(d)]))


def contains(word: str) -> Rule:
    """Texts with ``word`` as a whole word (case-insensitive)."""
    pattern = re.compile(r"(?<!\w)" + re.escape(word) + r"(?!\w)", re.IGNORECASE)
    return Rule(f"contains {word!r}", lambda d: np.array([bool(pattern.search(t)) for t in _texts(d)]))


def feature_range(column: str, lo: float | None = None, hi: float | None = None) -> Rule:
    """Rows with ``lo <= column < hi``."""
    def mask(d: pd.DataFrame) -> np.ndarray:
        v = pd.to_numeric(_column(d, column), errors="coerce").to_numpy()
        return (v >= (-np.inf if lo is None else lo)) & (v < (np.inf if hi is None else hi))
    name = (f"{column} < {hi:g}" if lo is None else f"{column} >= {lo:g}" if hi is None
            else f"{lo:g} <= {column} < {hi:g}")
    return Rule(name, mask)


def category(column: str, value: Any) -> Rule:
    """Rows whose ``column`` equals ``value``."""
    return Rule(f"{column} = {value}", lambda d: (_column(d, column) == value).to_numpy())


def _column(d: Any, column: str) -> pd.Series:
    if not isinstance(d, pd.DataFrame) or column not in d.columns:
        cols = list(d.columns) if isinstance(d, pd.DataFrame) else type(d).__name__
        raise InputError(f"no column {column!r} in the data; columns: {cols}.")
    return d[column]


def default_text_rules() -> list[Rule]:
    return [length(0, 10), length(30), contains("not"), contains("but")]


# ----- statistics ------------------------------------------------------------------------------------------
def wilson(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion."""
    if n == 0:
        return float("nan"), float("nan")
    z = normal.ppf(0.5 + confidence / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)


def ece(probs: np.ndarray, labels: np.ndarray, n_bins: int = 10) -> float:
    """Expected calibration error of the top class over equal-width confidence bins."""
    conf, hit = probs.max(1), probs.argmax(1) == labels
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in np.unique(bins):
        m = bins == b
        total += m.sum() * abs(hit[m].mean() - conf[m].mean())
    return float(total / len(labels)) if len(labels) else float("nan")


@dataclass
class SliceStats:
    name: str
    source: str  # "rule" or "discovered"
    size: int
    accuracy: float
    accuracy_ci: tuple[float, float]
    ece: float
    ece_ci: tuple[float, float]
    difference: float  # slice accuracy - overall accuracy

    @property
    def difference_ci(self) -> tuple[float, float]:
        """The accuracy interval shifted by the overall accuracy (taken as fixed: it is measured on all rows)."""
        overall = self.accuracy - self.difference
        return self.accuracy_ci[0] - overall, self.accuracy_ci[1] - overall

    def as_dict(self) -> dict:
        return {"slice": self.name, "source": self.source, "size": self.size, "accuracy": self.accuracy,
                "accuracy_ci": list(self.accuracy_ci), "ece": self.ece, "ece_ci": list(self.ece_ci),
                "difference": self.difference, "difference_ci": list(self.difference_ci)}


def slice_stats(name: str, source: str, probs: np.ndarray, labels: np.ndarray, mask: np.ndarray, overall: float,
                seed: int = 0, n_boot: int = 200) -> SliceStats:
    p, y = probs[mask], labels[mask]
    hits = int((p.argmax(1) == y).sum())
    acc = hits / len(y) if len(y) else float("nan")
    rng = np.random.default_rng(seed)
    boots = [ece(p[i], y[i]) for i in (rng.integers(len(y), size=len(y)) for _ in range(n_boot))] if len(y) else []
    ci = (float(np.quantile(boots, 0.025)), float(np.quantile(boots, 0.975))) if boots else (np.nan, np.nan)
    return SliceStats(name, source, int(mask.sum()), acc, wilson(hits, len(y)), ece(p, y), ci, acc - overall)


# ----- discovery -------------------------------------------------------------------------------------------
def error_clusters(embeddings: np.ndarray, wrong: np.ndarray, n_clusters: int, seed: int) -> list[np.ndarray]:
    """KMeans over the misclassified examples' embeddings; every example joins its nearest error centroid,
    so each centroid defines a slice of the whole set."""
    from sklearn.cluster import KMeans

    k = min(n_clusters, int(wrong.sum()))
    if k < 1:
        return []
    km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(embeddings[wrong])
    nearest = km.predict(embeddings)
    return [nearest == c for c in range(k)]


def worst_feature_pairs(frame: pd.DataFrame, hit: np.ndarray, min_size: int, top: int,
                        n_bins: int = 4) -> list[tuple[str, np.ndarray]]:
    """Single conditions and pairs of conditions (numeric columns in quantile bins, categories by value) of at
    least ``min_size`` rows, the ``top`` with the lowest accuracy."""
    conditions: list[tuple[str, str, np.ndarray]] = []
    for col in frame.columns:
        v = frame[col]
        if pd.api.types.is_numeric_dtype(v) and v.nunique() > n_bins:
            edges = np.unique(np.quantile(v.dropna(), np.linspace(0, 1, n_bins + 1)))
            for a, b in zip(edges[:-1], edges[1:]):
                m = ((v >= a) & ((v < b) | (b == edges[-1]))).to_numpy()
                conditions.append((col, f"{a:g} <= {col} <= {b:g}" if b == edges[-1] else f"{a:g} <= {col} < {b:g}",
                                   m))
        else:
            for value in v.value_counts().index[:12]:
                conditions.append((col, f"{col} = {value}", (v == value).to_numpy()))
    found = [(name, m) for _, name, m in conditions if m.sum() >= min_size]
    for (c1, n1, m1), (c2, n2, m2) in itertools.combinations(conditions, 2):
        if c1 != c2:
            m = m1 & m2
            if m.sum() >= min_size:
                found.append((f"{n1} & {n2}", m))
    found.sort(key=lambda f: hit[f[1]].mean())
    return found[:top]


@dataclass
class SliceReport(Result):
    overall_accuracy: float
    overall_ece: float
    slices: list[SliceStats]
    params: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One row per slice: its name, source, size, accuracy, ECE and difference, with intervals."""
        return pd.DataFrame([s.as_dict() for s in self.slices],
                            columns=["slice", "source", "size", "accuracy", "accuracy_ci", "ece", "ece_ci",
                                     "difference", "difference_ci"])

    def summary(self) -> dict:
        """Overall accuracy and ECE, and the worst slice."""
        out = {"overall_accuracy": self.overall_accuracy, "overall_ece": self.overall_ece, "slices": len(self.slices)}
        if self.slices:
            out["worst"] = self.worst(1)[0].as_dict()
        return out

    def worst(self, n: int = 5) -> list[SliceStats]:
        return sorted(self.slices, key=lambda s: s.difference)[:n]


def slices(model: Any, data: Any, labels: Sequence[int], rules: Sequence[Rule] | None = None,
           discover: bool = True, n_clusters: int = 5, embeddings: np.ndarray | None = None, min_size: int = 20,
           top: int = 5, seed: int = 0, probs: np.ndarray | None = None) -> SliceReport:
    """Slice statistics of ``model`` on ``data`` (texts, images or a DataFrame) with true ``labels``.

    ``rules``: default ``default_text_rules()`` for texts, none otherwise. ``discover``: tables get the ``top``
    worst feature-value conditions (single or pairs); texts and images get ``n_clusters`` error clusters in
    ``embeddings`` (N, D) (default for Hugging Face text models: the mean of the last hidden states);
    discovered slices have at least ``min_size`` examples. ``probs``: the model's (N, K) outputs if already computed (no model call then; ``model``
    may be None when ``embeddings`` are given too)."""
    y = np.asarray(labels, dtype=np.int64)
    if probs is None:
        model = wrap(model)
        with model.session():
            probs = model.evaluate(model.prepare(list(data) if isinstance(data, pd.Series) else data).rows())
    if len(probs) != len(y):
        raise InputError(f"got {len(y)} labels for {len(probs)} examples; pass one per example.")
    hit = probs.argmax(1) == y
    overall = float(hit.mean())
    is_text = isinstance(data, (list, tuple, pd.Series))
    rules = list(rules) if rules is not None else (default_text_rules() if is_text else [])
    out = [slice_stats(r.name, "rule", probs, y, np.asarray(r.mask(data), dtype=bool), overall, seed) for r in rules]
    if discover:
        if isinstance(data, pd.DataFrame):
            found = worst_feature_pairs(data, hit, min_size, top)
        else:
            emb = embeddings if embeddings is not None else text_embeddings(wrap(model), list(data))
            found = [(f"error cluster {c + 1}", m) for c, m in enumerate(error_clusters(emb, ~hit, n_clusters, seed))
                     if m.sum() >= min_size]
        out += [slice_stats(name, "discovered", probs, y, m, overall, seed) for name, m in found]
    return SliceReport(overall, ece(probs, y), out, {"rules": [r.name for r in rules], "discover": discover,
                                                    "n_clusters": n_clusters, "min_size": min_size, "top": top,
                                                    "seed": seed})


def text_embeddings(model: Model, texts: list[str], batch_size: int = 64) -> np.ndarray:
    """(N, D) mean of the last hidden states over each text's tokens (Hugging Face models; rows counted)."""
    import torch

    if not model.can("network", "token_embeddings"):
        raise InputError(f"cannot embed texts with {type(model).__name__}; pass embeddings=(N, D) array.")
    network = model.network
    out = []
    with model.session(), torch.inference_mode():
        for lo in range(0, len(texts), batch_size):
            ids, mask = model.tokenize(texts[lo:lo + batch_size])
            hidden = network(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states[-1]
            m = mask[..., None].to(hidden.dtype)
            out.append(((hidden * m).sum(1) / m.sum(1)).float().cpu().numpy())
            model.counts.rows += len(ids)
            model.counts.forwards += 1
    return np.concatenate(out)

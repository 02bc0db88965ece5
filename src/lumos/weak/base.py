"""Label models: the shared fit/predict machinery, the result object, and the name -> class registry.

A label model turns the (N, M) label matrix into (N, K) probabilistic labels. Subclasses implement ``_fit``
(learn parameters from the matrix), ``_posterior`` (probabilities for rows where at least one LF voted) and
``_accuracies`` (each LF's learned P(vote is right | LF votes)); this module handles inputs, classes nobody
votes for, abstain handling, timing and the result.
"""

from __future__ import annotations

import difflib
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence, TypeVar

import numpy as np
import pandas as pd

from ..errors import InputError
from .matrix import LabelMatrix, as_matrix

ABSTAIN_HANDLING = ("prior", "uniform", "drop")
T = TypeVar("T")
LABEL_MODELS: dict[str, type["LabelModel"]] = {}


def register(name: str) -> Callable[[type[T]], type[T]]:
    """Class decorator: make a label model reachable as ``lumos.weak.label_model(name)``."""

    def decorate(cls: type[T]) -> type[T]:
        if name in LABEL_MODELS and LABEL_MODELS[name] is not cls:
            raise RuntimeError(f"two label models registered as {name!r}: {LABEL_MODELS[name]} and {cls}")
        cls.name = name  # type: ignore[attr-defined]
        LABEL_MODELS[name] = cls  # type: ignore[assignment]
        return cls

    return decorate


def label_model(name: str, **params: Any) -> "LabelModel":
    """A label model by registered name, e.g. ``label_model("dawid_skene", seed=0)``."""
    _load_builtins()
    if name not in LABEL_MODELS:
        close = difflib.get_close_matches(str(name), LABEL_MODELS, n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise InputError(f"unknown label model {name!r}.{hint} Known: {', '.join(sorted(LABEL_MODELS))}.")
    return LABEL_MODELS[name](**params)


def label_models() -> list[str]:
    """Every registered label model name."""
    _load_builtins()
    return sorted(LABEL_MODELS)


def _load_builtins() -> None:
    from . import dawid_skene, majority, matrix_completion, triplet  # noqa: F401  (registers them)


@dataclass
class WeakLabels:
    """What a label model made of a label matrix.

    ``probs``: (N, K) probabilistic labels, finite everywhere. ``covered``: (N,) at least one LF voted (and,
    for majority vote with ``ties="abstain"``, the vote was not tied). ``keep``: (N,) the rows to train on
    (all of them unless ``abstain="drop"``, then the covered ones). ``accuracies``: (M,) learned P(vote right |
    LF votes) per LF (NaN where the model cannot tell, e.g. an LF that never votes). ``class_balance``: (K,) the class prior used. ``params``: the model's settings and fit
    record (name, seed, iterations, converged, seconds).
    """

    probs: np.ndarray
    covered: np.ndarray
    keep: np.ndarray
    accuracies: np.ndarray
    class_balance: np.ndarray
    lf_names: list[str]
    labels: list[str]
    params: dict[str, Any] = field(default_factory=dict)
    model: "LabelModel | None" = field(default=None, repr=False)

    @property
    def predictions(self) -> np.ndarray:
        """(N,) most probable class per row, -1 where the row is not kept."""
        return np.where(self.keep, self.probs.argmax(1), -1)

    def select(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        """(the kept rows of ``frame``, their (n_kept, K) probabilities); ``frame`` is aligned with the matrix."""
        if len(frame) != len(self.probs):
            raise InputError(f"frame has {len(frame)} rows but the labels cover {len(self.probs)} examples.")
        return frame[self.keep].reset_index(drop=True), self.probs[self.keep]

    def score(self, gold: Sequence[int]) -> dict[str, float]:
        """Accuracy of the most probable class against ``gold`` (N,) on kept rows, and the kept fraction."""
        y = np.asarray(gold)
        if y.shape != (len(self.probs),):
            raise InputError(f"gold has shape {y.shape}; expected ({len(self.probs)},), one label per example.")
        kept = self.keep & (y >= 0)
        acc = float(np.mean(self.probs[kept].argmax(1) == y[kept])) if kept.any() else 0.0
        return {"accuracy": acc, "kept": float(self.keep.mean()), "covered": float(self.covered.mean()),
                "n": int(kept.sum())}

    def to_frame(self) -> pd.DataFrame:
        """One row per example: a probability column per class, ``label`` (-1 where not kept), covered, keep."""
        out = pd.DataFrame(self.probs, columns=[f"p_{l}" for l in self.labels])
        out["label"] = self.predictions
        out["covered"], out["keep"] = self.covered, self.keep
        return out

    def lf_frame(self) -> pd.DataFrame:
        """One row per LF: its learned accuracy."""
        return pd.DataFrame({"lf": self.lf_names, "learned_accuracy": self.accuracies})

    def summary(self) -> str:
        p = self.params
        lines = [f"{p.get('model', '?')}: {len(self.probs)} examples, {len(self.lf_names)} LFs, "
                 f"{self.covered.mean():.1%} covered, {self.keep.mean():.1%} kept (abstain={p.get('abstain')})",
                 "class balance: " + ", ".join(f"{l} {b:.3f}" for l, b in zip(self.labels, self.class_balance)),
                 f"fit in {p.get('seconds', 0):.3f} s" + (f", {p['iterations']} iterations" if "iterations" in p
                                                           else "")
                 + ("" if p.get("converged", True) else " (NOT converged: raise max_iter)"),
                 "learned accuracies: " + ", ".join(f"{n} {a:.3f}" for n, a in zip(self.lf_names, self.accuracies))]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"WeakLabels({self.params.get('model')!r}, {len(self.probs)} examples, {self.keep.mean():.1%} kept)"


class LabelModel:
    """Base label model.

    ``seed``: every random choice (recorded even by models that make none). ``abstain``: what rows no LF
    votes on get: "prior" (the class balance), "uniform" (1/K), or "drop" (the class balance, and
    ``keep=False`` so they are left out of training). ``class_balance``: (K,) fixed class prior, or None to
    estimate it where the model can (majority votes use uniform).
    """

    name: str = "base"

    def __init__(self, *, seed: int = 0, abstain: str = "prior", class_balance: Sequence[float] | None = None):
        if abstain not in ABSTAIN_HANDLING:
            raise InputError(f"abstain must be one of {', '.join(ABSTAIN_HANDLING)}; got {abstain!r}.")
        if class_balance is not None:
            cb = np.asarray(class_balance, dtype=np.float64)
            if cb.ndim != 1 or np.any(cb <= 0) or abs(cb.sum() - 1) > 1e-6:
                raise InputError(f"class_balance must be positive and sum to 1; got {list(np.round(cb, 4))}.")
        self.seed, self.abstain = int(seed), abstain
        self.fixed_balance = None if class_balance is None else np.asarray(class_balance, dtype=np.float64)
        self.class_balance: np.ndarray | None = None
        self.fit_params: dict[str, Any] = {}
        self.n_classes = 0
        self.n_lfs = 0

    # ----- what subclasses provide -------------------------------------------------------------------
    def _fit(self, L: np.ndarray, K: int, rng: np.random.Generator) -> None:
        raise NotImplementedError

    def _posterior(self, L: np.ndarray) -> np.ndarray:
        """(n, M) votes, each row with at least one vote -> (n, K) probabilities."""
        raise NotImplementedError

    def _accuracies(self) -> np.ndarray:
        raise NotImplementedError

    def settings(self) -> dict[str, Any]:
        """The constructor settings, for the record."""
        return {"seed": self.seed, "abstain": self.abstain,
                "class_balance": None if self.fixed_balance is None else self.fixed_balance.tolist()}

    # ----- shared behaviour -------------------------------------------------------------------------
    def fit(self, L: LabelMatrix | np.ndarray, n_classes: int | None = None) -> WeakLabels:
        """Learn from the (N, M) label matrix and label its rows; returns ``WeakLabels``."""
        matrix = as_matrix(L, n_classes)
        K = matrix.n_classes
        if self.fixed_balance is not None and len(self.fixed_balance) != K:
            raise InputError(f"class_balance has {len(self.fixed_balance)} entries for {K} classes ({matrix.labels}).")
        check_class_coverage(matrix)
        self.n_classes, self.n_lfs, self.fit_params = K, matrix.L.shape[1], {}
        start = time.perf_counter()
        self._fit(matrix.L, K, np.random.default_rng(self.seed))
        seconds = time.perf_counter() - start
        if self.class_balance is None:
            self.class_balance = self.fixed_balance if self.fixed_balance is not None else np.full(K, 1.0 / K)
        probs, covered = self._label(matrix.L)
        keep = covered if self.abstain == "drop" else np.ones(len(covered), dtype=bool)
        params = {"model": self.name, **self.settings(), **self.fit_params, "seconds": seconds}
        return WeakLabels(probs, covered, keep, np.asarray(self._accuracies(), dtype=np.float64),
                          np.asarray(self.class_balance, dtype=np.float64), list(matrix.lf_names),
                          list(matrix.labels), params, self)

    def predict_proba(self, L: LabelMatrix | np.ndarray) -> np.ndarray:
        """(N, K) probabilities for a new label matrix of the same LFs (uncovered rows per ``abstain``)."""
        if not self.n_classes:
            raise InputError(f"{type(self).__name__} is not fitted; call fit(L) first.")
        matrix = as_matrix(L, self.n_classes)
        if matrix.L.shape[1] != self.n_lfs:
            raise InputError(f"the model was fit on {self.n_lfs} LFs; this matrix has {matrix.L.shape[1]}.")
        return self._label(matrix.L)[0]

    def _label(self, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, K) probabilities and (N,) covered mask; uncovered rows get the abstain fallback."""
        fallback = self._fallback()
        covered = (L >= 0).any(1)
        probs = np.tile(fallback, (len(L), 1))
        if covered.any():
            post = self._posterior(L[covered])
            probs[covered] = post
        if not np.all(np.isfinite(probs)):
            raise RuntimeError(f"{self.name} produced non-finite probabilities; please report this as a bug.")
        return probs, covered

    def _fallback(self) -> np.ndarray:
        """(K,) what an uncovered row gets."""
        K = self.n_classes
        return np.full(K, 1.0 / K) if self.abstain == "uniform" else np.asarray(self.class_balance, float)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.settings().items())})"


def check_class_coverage(matrix: LabelMatrix) -> None:
    """An InputError naming every class that no LF ever votes for (a label model can learn nothing about it)."""
    voted = np.bincount(matrix.L[matrix.L >= 0], minlength=matrix.n_classes)
    missing = [f"{matrix.labels[k]!r} ({k})" for k in np.flatnonzero(voted == 0)]
    if missing:
        raise InputError(f"no labeling function votes for class {', '.join(missing)} on these {len(matrix)} examples, "
                         "so no label model can learn when it is right: add an LF that votes for it, or leave the "
                         "class out of labels.")


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def posterior_accuracies(L: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """(M,) mean posterior probability of each LF's vote over the rows it votes on (NaN for an LF that never
    votes): how often the model believes the LF is right."""
    out = np.full(L.shape[1], np.nan)
    for j in range(L.shape[1]):
        rows = np.flatnonzero(L[:, j] >= 0)
        if rows.size:
            out[j] = float(probs[rows, L[rows, j]].mean())
    return out

"""Label models: the shared fit/predict machinery, the ``label`` verb and the result object.

A label model turns the (N, M) label matrix into (N, K) probabilistic labels. Subclasses implement ``_fit``
(learn parameters from the matrix), ``_posterior`` (probabilities for rows where at least one LF voted) and
``_accuracies`` (each LF's learned P(vote is right | LF votes)); this module handles inputs, classes nobody
votes for, abstain handling, timing and the result. Label models register in ``lumos.registry.LABEL_MODELS``
(kind "label_model"); the built-in ones live in ``weak/label_models/``, one module each.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..params import SEED, Choice, Constraint, Numbers, Optional, check_all
from ..registry import LABEL_MODELS, check_params
from ..results import Result
from .matrix import LabelMatrix, as_matrix

ABSTAIN_HANDLING = ("prior", "uniform", "drop")
register = LABEL_MODELS.register  # @register("name") on a LabelModel subclass


def label(L: LabelMatrix | np.ndarray, method: str = "dawid_skene", *, n_classes: int | None = None, seed: int = 0,
          abstain: str = "prior", class_balance: Sequence[float] | None = None, **params: Any) -> "WeakLabels":
    """Fit the label model ``method`` (see ``lumos.catalog("label_model")``) on the (N, M) label matrix and
    label its rows. ``abstain``: what rows no LF votes on get ("prior", "uniform", "drop"); ``params``: the
    model's hyper-parameters (e.g. ``ties="random"`` for majority, ``max_iter`` for dawid_skene)."""
    cls = LABEL_MODELS.get(method)
    check_params(f"label model {method!r}", params, [p for p in cls.info()["params"]])
    return cls(seed=seed, abstain=abstain, class_balance=class_balance, **params).fit(L, n_classes)


@dataclass
class WeakLabels(Result):
    """What a label model made of a label matrix.

    ``probs``: (N, K) probabilistic labels, finite everywhere. ``covered``: (N,) at least one LF voted (and,
    for majority vote with ``ties="abstain"``, the vote was not tied). ``keep``: (N,) the rows to train on
    (all of them unless ``abstain="drop"``, then the covered ones). ``accuracies``: (M,) learned P(vote right |
    LF votes) per LF (NaN where the model cannot tell, e.g. an LF that never votes). ``class_balance``: (K,)
    the class prior used. ``params``: the model's settings and fit record (name, seed, iterations, converged,
    seconds).
    """

    probs: np.ndarray
    covered: np.ndarray
    keep: np.ndarray
    accuracies: np.ndarray
    class_balance: np.ndarray
    lf_names: list[str]
    classes: list[str]
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

    def score(self, labels: Sequence[int]) -> dict[str, float]:
        """Accuracy of the most probable class against ground-truth ``labels`` (N,; -1: unknown) on the kept
        rows, the kept and covered fractions, and n (kept rows with a known label)."""
        y = np.asarray(labels)
        if y.shape != (len(self.probs),):
            raise InputError(f"labels has shape {y.shape}; expected ({len(self.probs)},), one per example.")
        kept = self.keep & (y >= 0)
        acc = float(np.mean(self.probs[kept].argmax(1) == y[kept])) if kept.any() else 0.0
        return {"accuracy": acc, "kept": float(self.keep.mean()), "covered": float(self.covered.mean()),
                "n": int(kept.sum())}

    def to_frame(self) -> pd.DataFrame:
        """One row per example: a probability column per class, ``label`` (-1 where not kept), covered, keep."""
        out = pd.DataFrame(self.probs, columns=[f"p_{c}" for c in self.classes])
        out["label"] = self.predictions
        out["covered"], out["keep"] = self.covered, self.keep
        return out

    def lf_frame(self) -> pd.DataFrame:
        """One row per LF: its learned accuracy."""
        return pd.DataFrame({"lf": self.lf_names, "learned_accuracy": self.accuracies})

    def summary(self) -> dict[str, Any]:
        """Headline figures: model, examples, LFs, covered and kept fractions, class balance, fit seconds,
        learned accuracies per LF."""
        p = self.params
        return {"model": p.get("model"), "examples": len(self.probs), "lfs": len(self.lf_names),
                "covered": float(self.covered.mean()), "kept": float(self.keep.mean()),
                "class_balance": {c: float(b) for c, b in zip(self.classes, self.class_balance)},
                "seconds": float(p.get("seconds", 0.0)), "converged": bool(p.get("converged", True)),
                "learned_accuracies": {n: float(a) for n, a in zip(self.lf_names, self.accuracies)}}

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
    # keyword -> the rule it must follow (lumos.params); a subclass adds its own and calls ``self.check(...)``
    param_rules: dict[str, Constraint] = {"seed": SEED, "abstain": Choice(*ABSTAIN_HANDLING),
                                          "class_balance": Optional(Numbers(low=0, low_open=True))}

    def __init__(self, *, seed: int = 0, abstain: str = "prior", class_balance: Sequence[float] | None = None):
        self.check(seed=seed, abstain=abstain, class_balance=class_balance)
        if class_balance is not None:
            cb = np.asarray(class_balance, dtype=np.float64)
            if abs(cb.sum() - 1) > 1e-6:
                raise InputError(f"class_balance must be positive and sum to 1; got {list(np.round(cb, 4))}.")
        self.seed, self.abstain = int(seed), abstain
        self.fixed_balance = None if class_balance is None else np.asarray(class_balance, dtype=np.float64)
        self.class_balance: np.ndarray | None = None
        self.fit_params: dict[str, Any] = {}
        self.n_classes = 0
        self.n_lfs = 0

    def check(self, **values: Any) -> None:
        """An InputError naming the first of ``values`` (keyword -> value) that breaks its ``param_rules``."""
        check_all(self.name, ((k, v, self.param_rules[k]) for k, v in values.items()))

    # ----- what subclasses provide -------------------------------------------------------------------
    def _fit(self, L: np.ndarray, K: int, rng: np.random.Generator) -> None:
        raise NotImplementedError

    def _posterior(self, L: np.ndarray) -> np.ndarray:
        """(n, M) votes, each row with at least one vote -> (n, K) probabilities."""
        raise NotImplementedError

    def _accuracies(self) -> np.ndarray:
        raise NotImplementedError

    @classmethod
    def info(cls) -> dict[str, Any]:
        """Registry metadata: summary (the docstring's first line), params (hyper-parameters and defaults)."""
        skip = {"self", "seed", "abstain", "class_balance"}
        params = {n: p.default for n, p in inspect.signature(cls.__init__).parameters.items()
                  if n not in skip and p.kind == p.KEYWORD_ONLY}
        return {"summary": (cls.__doc__ or "").strip().split("\n")[0], "params": params,
                "modalities": ("text", "image", "tabular"), "requires": ()}

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
            raise InputError(f"class_balance has {len(self.fixed_balance)} entries for {K} classes ({matrix.classes}).")
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
                          list(matrix.classes), params, self)

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
    missing = [f"{matrix.classes[k]!r} ({k})" for k in np.flatnonzero(voted == 0)]
    if missing:
        raise InputError(f"no labeling function votes for class {', '.join(missing)} on these {len(matrix)} examples, "
                         "so no label model can learn when it is right: add an LF that votes for it, or leave the "
                         "class out of classes.")


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

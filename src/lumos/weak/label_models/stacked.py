"""Stacking: a logistic regression from the LFs' votes to the class, fitted on a small gold dev set."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression

from ...errors import InputError
from ...params import Anything, Float
from ..base import LabelModel, posterior_accuracies, register, softmax
from ..matrix import as_matrix, one_hot, vote_counts
from .majority import _winners


@register("stacked")
class Stacked(LabelModel):
    """Multinomial logistic regression on the one-hot votes (each LF's vote for each class is one feature, an
    abstention the zero vector), fitted on a gold ``dev=(L_dev, y_dev)`` set, L2 strength 1 / ``C``.

    Assumes only that the dev rows are drawn like the rows to label. Nothing about how LFs relate: correlated
    LFs, copies, LFs that vote one class and LFs whose votes mean more together than apart get the weights the
    dev set gives them, so several versions of one signal (an LLM's vote at several margins, a model's at
    several confidence levels) act as a binned score. Needs a few hundred dev rows for a few dozen LFs, and
    every class among them. Without ``dev`` it is fitted to the matrix's own majority vote (tied rows left
    out): a smoothed majority vote, no better. ``accuracies``: the mean posterior of each LF's vote.
    """

    param_rules = {**LabelModel.param_rules, "dev": Anything(), "C": Float(low=0, low_open=True)}

    def __init__(self, *, dev: tuple[Any, Sequence[int]] | None = None, C: float = 0.1, seed: int = 0,
                 abstain: str = "prior", class_balance: Sequence[float] | None = None):
        super().__init__(seed=seed, abstain=abstain, class_balance=class_balance)
        self.check(C=C)
        if dev is not None and not (isinstance(dev, (tuple, list)) and len(dev) == 2):
            raise InputError(f"{self.name}: dev must be a pair (L_dev, y_dev) of a label matrix and its gold labels; "
                             f"got {type(dev).__name__}.")
        self.dev, self.C = dev, float(C)

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "C": self.C, "fitted_on": "dev" if self.dev is not None else "majority vote"}

    def _targets(self, L: np.ndarray, K: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows (n, M), classes (n,)) to fit on: the dev set, else the untied majority-vote rows of ``L``."""
        if self.dev is None:
            win = _winners(vote_counts(L, K))
            rows = win.sum(1) == 1
            return L[rows], win[rows].argmax(1)
        L_dev, y_dev = as_matrix(self.dev[0], K).L, np.asarray(self.dev[1])
        if L_dev.shape[1] != L.shape[1] or y_dev.shape != (L_dev.shape[0],):
            raise InputError(f"{self.name}: dev=(L_dev, y_dev) needs L_dev (n, {L.shape[1]}) and y_dev (n,); got "
                             f"{L_dev.shape} and {y_dev.shape}.")
        if not np.issubdtype(y_dev.dtype, np.integer) or np.any((y_dev < 0) | (y_dev >= K)):
            raise InputError(f"{self.name}: y_dev holds the dev rows' gold classes, integers 0..{K - 1}; got "
                             f"{np.unique(y_dev)[:10].tolist()}.")
        return L_dev, y_dev

    def _fit(self, L: np.ndarray, K: int, rng: np.random.Generator) -> None:
        X, y = self._targets(L, K)
        missing = sorted(set(range(K)) - set(np.unique(y).tolist()))
        if missing:
            source = "dev set" if self.dev is not None else "majority vote of this matrix"
            raise InputError(f"{self.name}: the {source} has no row of class {', '.join(map(str, missing))}, so "
                             "its votes cannot be weighed; give a dev set with every class.")
        self.regression = LogisticRegression(C=self.C, max_iter=5000).fit(self._features(X), y)
        seen = np.bincount(y, minlength=K) / len(y)
        self.shift = 0.0 if self.fixed_balance is None else np.log(self.fixed_balance) - np.log(seen)
        self.class_balance = self.fixed_balance if self.fixed_balance is not None else seen
        self.fit_params = {"fitted_rows": int(len(y))}
        self._acc = posterior_accuracies(L, self._label(L)[0])

    def _features(self, L: np.ndarray) -> np.ndarray:
        return one_hot(L, self.n_classes).reshape(len(L), -1)

    def _posterior(self, L: np.ndarray) -> np.ndarray:
        return softmax(self.regression.predict_log_proba(self._features(L)) + self.shift)

    def _accuracies(self) -> np.ndarray:
        return self._acc

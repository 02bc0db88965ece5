"""Linear datamodeling score (Park et al. 2023): how well influence scores predict retraining.

Train one model per random subset S_m of the training set (``fraction`` of it, ``n_models`` subsets); the
scores predict test example i's loss on S_m as a constant plus the sum of scores[i, j] over the examples j left
out. LDS is the Spearman correlation, over the subsets, of predicted and actual losses, averaged over test
examples (1: perfect ranking of the subsets; 0: no information).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from ..errors import InputError
from ..results import Result


def random_subsets(n_train: int, n_models: int, fraction: float = 0.5, seed: int = 0) -> np.ndarray:
    """(n_models, n_train) boolean masks, each with round(fraction * n_train) training examples kept."""
    if not 0 < fraction < 1 or n_models < 2:
        raise InputError(f"lds needs 0 < fraction < 1 and n_models >= 2; got {fraction}, {n_models}.")
    rng = np.random.default_rng(seed)
    keep = int(round(fraction * n_train))
    masks = np.zeros((n_models, n_train), dtype=bool)
    for m in range(n_models):
        masks[m, rng.choice(n_train, keep, replace=False)] = True
    return masks


@dataclass
class LDSResult(Result):
    """``score[name]``: mean LDS; ``per_test[name]``: (n_test,) Spearman per test example (NaN where constant);
    ``actual``: (n_models, n_test) retrained losses; ``masks``: the subsets."""

    score: dict[str, float]
    per_test: dict[str, np.ndarray]
    actual: np.ndarray
    masks: np.ndarray
    params: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One row per scored method: the mean LDS and the spread over test examples."""
        return pd.DataFrame([{"method": k, "lds": v, "std_over_tests": float(np.nanstd(self.per_test[k])),
                              "n_test": int(np.isfinite(self.per_test[k]).sum())} for k, v in self.score.items()])

    def summary(self) -> dict[str, float]:
        return dict(self.score)


def lds(scores: Mapping[str, np.ndarray] | np.ndarray, retrain: Callable[[np.ndarray], np.ndarray], *,
        n_models: int = 20, fraction: float = 0.5, seed: int = 0, masks: np.ndarray | None = None) -> LDSResult:
    """LDS of one score matrix (n_test, n_train) or of several (name -> matrix), on the same retrainings.

    ``retrain(indices)`` trains a model on the training examples ``indices`` and returns its (n_test,) test
    losses. ``masks`` (n_models, n_train) overrides the random subsets.
    """
    table = {"scores": scores} if isinstance(scores, np.ndarray) else dict(scores)
    shapes = {k: np.shape(v) for k, v in table.items()}
    if len(set(shapes.values())) != 1 or len(next(iter(shapes.values()))) != 2:
        raise InputError(f"lds takes score matrices of one shape (n_test, n_train); got {shapes}.")
    n_test, n_train = next(iter(shapes.values()))
    masks = random_subsets(n_train, n_models, fraction, seed) if masks is None else np.asarray(masks, dtype=bool)
    actual = np.stack([np.asarray(retrain(np.flatnonzero(m)), dtype=np.float64).reshape(-1) for m in masks])
    if actual.shape != (len(masks), n_test):
        raise InputError(f"retrain must return one loss per test example ({n_test}); got shape {actual.shape[1:]}.")
    per_test, score = {}, {}
    for name, s in table.items():
        predicted = (~masks).astype(np.float64) @ np.asarray(s, dtype=np.float64).T  # (n_models, n_test)
        rho = np.array([_spearman(predicted[:, i], actual[:, i]) for i in range(n_test)])
        per_test[name] = rho
        score[name] = float(np.nanmean(rho)) if np.isfinite(rho).any() else float("nan")
    return LDSResult(score, per_test, actual, masks, {"n_models": len(masks), "fraction": fraction, "seed": seed})


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)

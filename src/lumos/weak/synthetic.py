"""Label matrices with known answers: LFs drawn at set accuracies and coverages, optionally with copies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import InputError
from .matrix import ABSTAIN, LabelMatrix


@dataclass
class SyntheticTask:
    """``matrix``: (N, M) votes; ``y``: (N,) true classes; ``accuracies``/``coverages``: (M,) the values each
    column was drawn with (copies inherit their source's)."""

    matrix: LabelMatrix
    y: np.ndarray
    accuracies: np.ndarray
    coverages: np.ndarray


def _votes(y: np.ndarray, accuracy: float, coverage: float, K: int, rng: np.random.Generator) -> np.ndarray:
    n = len(y)
    fires = rng.random(n) < coverage
    right = rng.random(n) < accuracy
    wrong = (y + rng.integers(1, K, size=n)) % K  # uniformly one of the other classes
    return np.where(fires, np.where(right, y, wrong), ABSTAIN)


def synthetic(n: int, accuracies: Sequence[float], coverages: Sequence[float] | float = 1.0, *,
              n_classes: int = 2, class_balance: Sequence[float] | None = None,
              copies: dict[int, int] | None = None, copy_agreement: float = 1.0, seed: int = 0) -> SyntheticTask:
    """A label matrix whose LF j votes on a fraction ``coverages[j]`` of the examples (independently of the
    class) and is right there with probability ``accuracies[j]``, wrong uniformly over the other classes.

    ``copies``: {j: c} appends c correlated copies of LF j; each copy repeats LF j's vote (abstentions
    included) with probability ``copy_agreement`` and otherwise draws its own vote at LF j's accuracy and
    coverage. True classes follow ``class_balance`` (default uniform). Seeded.
    """
    acc = np.asarray(accuracies, dtype=np.float64)
    cov = np.broadcast_to(np.asarray(coverages, dtype=np.float64), acc.shape).copy()
    if n < 1 or n_classes < 2 or np.any((acc < 0) | (acc > 1)) or np.any((cov < 0) | (cov > 1)):
        raise InputError(f"need n >= 1, n_classes >= 2, accuracies and coverages in [0, 1]; got n={n}, "
                         f"n_classes={n_classes}, accuracies={acc.tolist()}, coverages={cov.tolist()}.")
    rng = np.random.default_rng(seed)
    balance = np.full(n_classes, 1.0 / n_classes) if class_balance is None else np.asarray(class_balance, float)
    y = rng.choice(n_classes, size=n, p=balance)
    columns = [_votes(y, a, c, n_classes, rng) for a, c in zip(acc, cov)]
    names = [f"lf{j}" for j in range(len(acc))]
    accs, covs = list(acc), list(cov)
    for j, count in sorted((copies or {}).items()):
        if not 0 <= j < len(acc):
            raise InputError(f"copies names LF {j}, but there are {len(acc)} LFs (0..{len(acc) - 1}).")
        for c in range(count):
            own = _votes(y, acc[j], cov[j], n_classes, rng)
            columns.append(np.where(rng.random(n) < copy_agreement, columns[j], own))
            names.append(f"lf{j}_copy{c + 1}")
            accs.append(acc[j])
            covs.append(cov[j])
    matrix = LabelMatrix(np.stack(columns, 1), names, [str(k) for k in range(n_classes)],
                         kinds={name: "synthetic" for name in names})
    return SyntheticTask(matrix, y, np.array(accs), np.array(covs))

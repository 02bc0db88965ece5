"""Quality of a set of counterfactuals for one query row, whoever produced them (a DataFrame in).

validity: fraction predicted as desired. proximity_numeric: mean MAD-scaled |change| over numeric features;
proximity_categorical: fraction of categorical features changed. sparsity: mean number of features changed.
diversity: mean pairwise distance (the same distance). plausibility_knn: mean distance to the k nearest training
rows; lof_outliers: fraction that scikit-learn's LocalOutlierFactor (novelty mode, fit on the training rows) calls
outliers. actionability: fraction respecting every constraint (must be 1). seconds: time taken, when given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors

from .constraints import Bounds
from .space import FeatureSpace
from .target import Predictor, Target

METRICS = ("validity", "proximity_numeric", "proximity_categorical", "sparsity", "diversity", "plausibility_knn",
           "lof_outliers", "actionability")


@dataclass
class Plausibility:
    """kNN and LOF fitted once on (a seeded sample of at most ``max_rows``) training rows in the embedding."""

    knn: NearestNeighbors
    lof: LocalOutlierFactor
    k: int

    @classmethod
    def fit(cls, space: FeatureSpace, k: int = 5, max_rows: int = 5000, seed: int = 0) -> "Plausibility":
        train = space.train
        if len(train) > max_rows:
            train = train[np.sort(np.random.default_rng(seed).choice(len(train), max_rows, replace=False))]
        emb = space.embed(train)
        k = min(k, len(emb))
        knn = NearestNeighbors(n_neighbors=k, metric="manhattan").fit(emb)
        lof = LocalOutlierFactor(n_neighbors=min(20, len(emb) - 1), novelty=True, metric="manhattan").fit(emb)
        return cls(knn, lof, k)

    def scores(self, space: FeatureSpace, z: np.ndarray) -> tuple[float, float]:
        """(mean distance to the k nearest training rows, fraction of LOF outliers)."""
        emb = space.embed(z)
        distances, _ = self.knn.kneighbors(emb)
        return float(distances.mean()), float((self.lof.predict(emb) == -1).mean())


def score_set(space: FeatureSpace, bounds: Bounds, target: Target, predictor: Predictor, z: np.ndarray,
              plausibility: Plausibility, seconds: float | None = None) -> dict[str, float]:
    """(N, F) encoded counterfactuals (unknown categories as -1) -> metric name -> value (NaN where a metric
    needs at least one or two rows)."""
    out: dict[str, float] = {name: float("nan") for name in METRICS}
    out["seconds"] = float("nan") if seconds is None else float(seconds)
    out["count"] = float(len(z))
    if len(z) == 0:
        return out
    known = np.all((z >= 0) | ~space.categorical, axis=1)
    valid = np.zeros(len(z), dtype=bool)
    if known.any():
        valid[known] = target.margin(predictor.outputs(z[known])) > 0
    numeric, categorical = ~space.categorical, space.categorical
    out["validity"] = float(valid.mean())
    if numeric.any():
        out["proximity_numeric"] = float((np.abs(z[:, numeric] - bounds.x[numeric]) / space.mad[numeric]).mean())
    if categorical.any():
        out["proximity_categorical"] = float((z[:, categorical] != bounds.x[categorical]).mean())
    out["sparsity"] = float((np.abs(z - bounds.x) > 1e-9).sum(axis=1).mean())
    if len(z) > 1:
        pairs = space.pairwise(z)
        out["diversity"] = float(pairs[np.triu_indices(len(z), 1)].mean())
    if known.any():
        out["plausibility_knn"], out["lof_outliers"] = plausibility.scores(space, z[known])
    out["actionability"] = float((bounds.respected(z) & known).mean())
    return out

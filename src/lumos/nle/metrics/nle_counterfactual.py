"""Counterfactual test of a (natural-language) explanation: do the words it cites move the prediction more
than the same number of random words? (After the removal tests of Atanasova et al. 2023.)"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from ...errors import InputError
from ...features.masking import masked_probs
from ...features.removal import removable
from ...registry import register
from ...metrics.base import Metric


@register("nle_counterfactual", kind="metric")
@dataclass(frozen=True)
class NLECounterfactual(Metric):
    """Score: drop(cited) - mean drop(random), drop = p(y|x) - p(y|x without the words). The cited words are
    the features with attribution > 0 (an NLE's cited words; for attribution methods, the words they credit).
    Random sets have the same size: all of them when there are at most ``n_samples``, else ``n_samples``
    drawn with the seed. ``baseline``: "delete" (default), "mask" or "pad". An explanation citing nothing
    scores 0, flagged in details["no_citation"]."""

    family = "faithfulness"
    higher_is_better = True
    bounds = (-1.0, 1.0)
    modalities = ("text",)
    summary = "Prediction drop when the cited words are removed, minus the drop for as many random words."
    n_samples: int = 100
    baseline: object = None

    def compute(self, ctx):
        if self.n_samples < 1:
            raise InputError(f"n_samples must be >= 1; got {self.n_samples}.")
        cited = [s > 0 for s in ctx.scores()]
        masks = [np.vstack([np.ones((1, len(c)), bool), ~c[None], ~self._random_sets(c, ctx.seed)]) for c in cited]
        probs = masked_probs(ctx.model, removable(ctx.model, ctx.batch, baseline=self.baseline), masks)
        scores, cited_drop, random_drop, flip_cited, flip_random, beaten = [], [], [], [], [], []
        for p, t in zip(probs, ctx.targets):
            drop = p[0, t] - p[1:, t]  # (1 + R,) the cited set first
            flips = p[1:].argmax(1) != p[0].argmax()
            cited_drop.append(drop[0])
            random_drop.append(drop[1:].mean())
            scores.append(drop[0] - drop[1:].mean())
            flip_cited.append(flips[0])
            flip_random.append(flips[1:].mean())
            beaten.append(np.mean((drop[1:] < drop[0]) + 0.5 * (drop[1:] == drop[0])))
        return np.array(scores), {"cited_drop": np.array(cited_drop), "random_drop": np.array(random_drop),
                                  "flip_cited": np.array(flip_cited), "flip_random": np.array(flip_random),
                                  "random_beaten": np.array(beaten),
                                  "no_citation": np.array([not c.any() for c in cited])}

    def _random_sets(self, cited: np.ndarray, seed: int) -> np.ndarray:
        """(R, F) bool word sets of size |cited|: every one when C(F, m) <= n_samples, else a seeded draw
        (per example, so an example's score does not depend on its batch)."""
        n, m = len(cited), int(cited.sum())
        if math.comb(n, m) <= self.n_samples:
            sets = np.zeros((math.comb(n, m), n), dtype=bool)
            for r, idx in enumerate(itertools.combinations(range(n), m)):
                sets[r, list(idx)] = True
            return sets
        rng = np.random.default_rng(seed)
        order = np.argsort(rng.random((self.n_samples, n)), axis=1)[:, :m]
        sets = np.zeros((self.n_samples, n), dtype=bool)
        np.put_along_axis(sets, order, True, axis=1)
        return sets

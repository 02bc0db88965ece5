"""Numbers for the report, from a run in the store: per-metric method tables with tie-aware ranks, degenerate
explanations, costs and agreement. The sentences drawn from them are in ``summary.py``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import registry
from ..comparison import pair_scores
from ..evaluation import mean_interval
from ..explanation import feature_vector, is_degenerate
from .ranking import Difference, difference, tie_ranks


@dataclass
class MetricTable:
    """One metric over the run's methods. ``rows``: index method; columns mean, std, n (examples counted),
    low and high (95% bootstrap interval of the mean), rank (1 + methods better beyond the interval; NaN for
    a method the metric favours by construction) and tied (the rank is shared). ``values``: examples x
    methods, the scores summarised (degenerate explanations left out). ``favours``: the run's methods that
    the metric favours by construction, with why."""

    metric: str
    family: str
    higher_is_better: bool
    rows: pd.DataFrame
    values: pd.DataFrame
    plain: str = ""
    misleads: str = ""
    favours: dict[str, str] = field(default_factory=dict)

    def difference(self, a: str, b: str) -> Difference:
        """a - b per example (positive: a is better), with its interval."""
        return difference(self.values[a].to_numpy(), self.values[b].to_numpy(), self.higher_is_better)

    def first(self) -> list[str]:
        """The methods ranked first (ties included)."""
        return [m for m in self.rows.index if self.rows.loc[m, "rank"] == 1]

    def ranked(self) -> list[str]:
        return [m for m in self.rows.index if self.rows.loc[m, "rank"] == self.rows.loc[m, "rank"]]


def metric_info(metric: str) -> dict:
    """The registered metric's metadata; a metric lumos does not know gets neutral defaults."""
    if metric in registry.names("metric"):
        return registry.get(metric, "metric").info()
    return {"family": "other", "higher_is_better": True, "plain": "", "misleads": "", "favours": {}}


def metric_tables(scores: pd.DataFrame, degenerate: pd.DataFrame | None = None) -> list[MetricTable]:
    """One table per metric (``scores``: example_id, method, metric, value rows). Scores of degenerate
    explanations (``degenerate``: method, example_id rows) are left out of every mean and rank."""
    if degenerate is not None and len(degenerate):
        bad = pd.MultiIndex.from_frame(degenerate[["method", "example_id"]])
        scores = scores[~pd.MultiIndex.from_frame(scores[["method", "example_id"]]).isin(bad)]
    out = []
    for metric, frame in scores.groupby("metric", sort=True):
        info = metric_info(metric)
        values = frame.pivot_table(index="example_id", columns="method", values="value", aggfunc="first")
        values.columns = [str(c) for c in values.columns]
        favours = {m: why for m, why in (info.get("favours") or {}).items() if m in values.columns}
        rows = pd.DataFrame({"mean": values.mean(), "std": values.std(), "n": values.notna().sum()})
        rows[["low", "high"]] = [mean_interval(values[m].dropna().to_numpy()) for m in rows.index]
        ranked = [m for m in values.columns if m not in favours and rows.loc[m, "n"] > 0]
        rows["rank"] = tie_ranks(values[ranked], info["higher_is_better"]).reindex(rows.index)
        counts = rows["rank"].value_counts()
        rows["tied"] = rows["rank"].map(lambda r: r == r and counts.get(r, 0) > 1)
        direction = -1.0 if info["higher_is_better"] else 1.0
        rows = rows.assign(_key=direction * rows["mean"]).sort_values(["rank", "_key"], na_position="last")
        out.append(MetricTable(metric, info["family"], info["higher_is_better"], rows.drop(columns="_key"), values,
                               info.get("plain", ""), info.get("misleads", ""), favours))
    return out


def degenerate_explanations(attributions: pd.DataFrame) -> pd.DataFrame:
    """The (method, example_id) pairs whose stored map is all zero, constant or not finite."""
    mask = attributions.attributions.map(is_degenerate) if len(attributions) else pd.Series([], dtype=bool)
    return attributions.loc[mask, ["method", "example_id"]].reset_index(drop=True)


def costs(units: pd.DataFrame) -> pd.DataFrame:
    """Per method: model rows and seconds per example (explanation only; metrics cost extra)."""
    g = units.groupby("method")[["forward_rows", "forward_calls", "explain_seconds", "n_examples"]].sum()
    return pd.DataFrame({"rows_per_example": g.forward_rows / g.n_examples,
                         "forwards_per_example": g.forward_calls / g.n_examples,
                         "seconds_per_example": g.explain_seconds / g.n_examples})


def agreement(attributions: pd.DataFrame, k: int = 5) -> tuple[pd.DataFrame, dict[tuple[str, str], np.ndarray]]:
    """methods x methods mean Spearman of |attributions|, and the per-example values of each pair."""
    methods = sorted(attributions.method.unique())
    by = {m: attributions[attributions.method == m].set_index("example_id").attributions for m in methods}
    per_pair = {}
    for i, a in enumerate(methods):
        for b in methods[i + 1:]:
            common = by[a].index.intersection(by[b].index)
            vals = np.array([pair_scores(feature_vector(by[a][e]), feature_vector(by[b][e]), k, True)["spearman"]
                             for e in common])
            per_pair[(a, b)] = per_pair[(b, a)] = vals
    return agreement_matrix(methods, per_pair), per_pair


def attribution_summary(store: Any, run_id: str, chunk: int = 10_000) -> tuple:
    """What the summary and the report need of the stored maps, read ``chunk`` examples at a time (a run over a
    million examples never holds its maps at once): the degenerate (method, example_id) pairs, the per-example
    rank correlations of each pair of methods (``agreement``), and method -> (degenerate maps, maps)."""
    bad, pairs, counts = [], {}, {}
    for part in store.chunks("attributions", run_id, chunk):
        bad.append(degenerate_explanations(part))
        for pair, values in agreement(part)[1].items():
            pairs.setdefault(pair, []).append(values)
        for method, maps in part.method.value_counts().items():
            counts[method] = counts.get(method, 0) + int(maps)
    degenerate = pd.concat(bad, ignore_index=True) if bad else pd.DataFrame(columns=["method", "example_id"])
    flagged = {m: (int((degenerate.method == m).sum()), n) for m, n in sorted(counts.items())}
    return degenerate, {pair: np.concatenate(values) for pair, values in pairs.items()}, flagged


def agreement_matrix(methods: list[str], per_pair: dict[tuple[str, str], np.ndarray]) -> pd.DataFrame:
    """methods x methods mean of the per-example rank correlations ``per_pair`` (as ``agreement`` gives them)."""
    matrix = pd.DataFrame(np.eye(len(methods)), index=methods, columns=methods)
    for (a, b), vals in per_pair.items():
        matrix.loc[a, b] = np.nanmean(vals) if np.isfinite(vals).any() else np.nan
    return matrix

"""Numbers for the report, from a run in the store: per-metric method summaries, costs, agreement, and the
plain-language summary."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import registry
from ..comparison import pair_scores
from ..explanation import feature_vector


@dataclass
class MetricTable:
    metric: str
    family: str
    higher_is_better: bool
    rows: pd.DataFrame  # index method; columns mean, std, rank, n


def metric_tables(scores: pd.DataFrame) -> list[MetricTable]:
    """One table per metric: mean, spread and rank of each method (rank 1 = best in the metric's direction)."""
    out = []
    for metric, frame in scores.groupby("metric", sort=True):
        info = registry.get(metric, "metric").info() if metric in registry.names("metric") else \
            {"family": "other", "higher_is_better": True}
        stats = frame.groupby("method").value.agg(["mean", "std", "count"]).rename(columns={"count": "n"})
        stats["rank"] = stats["mean"].rank(ascending=not info["higher_is_better"], method="min")
        out.append(MetricTable(metric, info["family"], info["higher_is_better"], stats.sort_values("rank")))
    return out


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
    matrix = pd.DataFrame(np.eye(len(methods)), index=methods, columns=methods)
    per_pair = {}
    for i, a in enumerate(methods):
        for b in methods[i + 1:]:
            common = by[a].index.intersection(by[b].index)
            vals = np.array([pair_scores(feature_vector(by[a][e]), feature_vector(by[b][e]), k, True)["spearman"]
                             for e in common])
            per_pair[(a, b)] = per_pair[(b, a)] = vals
            matrix.loc[a, b] = matrix.loc[b, a] = np.nanmean(vals) if np.isfinite(vals).any() else np.nan
    return matrix, per_pair


def plain_summary(tables: list[MetricTable], cost: pd.DataFrame, per_pair: dict, model_name: str) -> list[str]:
    """A few sentences for non-specialists."""
    lines = []
    faithful = [t for t in tables if t.family == "faithfulness"]
    if faithful:
        ranks = pd.concat([t.rows["rank"].rename(t.metric) for t in faithful], axis=1).mean(axis=1).sort_values()
        best = [m for m in ranks.index if m != "random"][:2]
        metrics = ", ".join(t.metric for t in faithful)
        if "random" in ranks.index and ranks["random"] <= ranks[best[0]]:
            lines.append(f"On {model_name}, no method was more faithful than random attributions (mean rank over "
                         f"{metrics}): on this model and data these metrics cannot tell the methods apart, so "
                         "do not pick a method by them.")
        else:
            lines.append(f"On {model_name}, {' and '.join(best)} {'were' if len(best) > 1 else 'was'} the most "
                         f"faithful (mean rank over {metrics}): removing the words or pixels they point at changes "
                         "the prediction the most.")
            if "random" in ranks.index:
                lines.append(f"Random attributions ranked {list(ranks.index).index('random') + 1} of {len(ranks)}: "
                             "the metrics tell these methods from chance.")
        others = [m for m in ranks.index if m not in best and m != "random"]
        worst, share = None, -1.0
        for m in others:
            pairs = [per_pair.get((m, b)) for b in best]
            if all(p is not None and len(p) for p in pairs):
                disagree = np.mean(np.all([np.nan_to_num(p, nan=0.0) < 0.5 for p in pairs], axis=0))
                if disagree > share:
                    worst, share = m, float(disagree)
        if worst is not None and share > 0:
            lines.append(f"{worst} disagreed with both (rank correlation below 0.5) on {share:.0%} of examples.")
    plaus = [t for t in tables if t.metric in ("token_f1", "auprc")]
    if plaus:
        t = plaus[0]
        top = [m for m in t.rows.index if m != "random"][:1]
        if top:
            lines.append(f"{top[0]} matched the human or true rationale best ({t.metric} "
                         f"{t.rows.loc[top[0], 'mean']:.2f}).")
    real = cost.drop(index="random", errors="ignore")
    if len(real) > 1:
        cheap, dear = real.rows_per_example.idxmin(), real.rows_per_example.idxmax()
        lines.append(f"{cheap} needed the fewest model evaluations ({real.rows_per_example[cheap]:.0f} per example), "
                     f"{dear} the most ({real.rows_per_example[dear]:.0f}).")
    return lines

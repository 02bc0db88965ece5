"""Global attributions: any lumos explainer run over a sample of a data set and aggregated per word (text) or per
column value (tables), so "what does the model use overall" is one call."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ...models import wrap
from ...params import SEED, Anything, Choice, Int, Optional, Registered
from ..data import Labelled, labelled
from ..features import sample_rows, table_features, word_key
from ..result import Candidate, Findings
from ._register import data_rules, discoverer

RANK_BY = ("signed", "mass", "mean")


def _row_keys(d: Labelled, rows: pd.DataFrame, n_bins: int) -> list[list[str | None]]:
    """For each row, the candidate key of each feature column's value (None when the value is not a candidate)."""
    feats = table_features(d.frame, list(d.columns), 1, n_bins)
    x = feats.x.tocsr()
    out = []
    for i in rows.index:
        keys: dict[str, str] = {}
        for j in x[i].indices:
            keys.setdefault(feats.columns[j], feats.keys[j])
        out.append([keys.get(c) for c in d.columns])
    return out


@discoverer("attributions", rules={
    **data_rules("min_count", "n_bins", "label_column", "text_column", "class_names"), "method": Registered("explainer"),
    "n": Optional(Int(low=1)), "target": Anything(), "seed": SEED, "rank_by": Choice(*RANK_BY)})
def attributions(model: Any, data: Any, *, method: str = "occlusion", n: int | None = 500, target: Any = None,
                 seed: int = 0, min_count: int = 5, rank_by: str = "signed", n_bins: int = 4,
                 label_column: str = "label", text_column: str | None = None,
                 class_names: Sequence[str] | None = None, **params: Any) -> Findings:
    """Explain ``n`` sampled rows of ``data`` with ``method`` and aggregate per word / column value.

    target: the class the attributions explain (default: class 1 of a binary model, so a positive score pushes
    towards it; with more classes each row's predicted class). Per key: its count, mean signed and mean
    absolute attribution per occurrence, its share of all absolute attribution (the mass) and its signed share
    (|sum of its signed attributions| / all absolute attribution). rank_by "signed" (default) ranks by the
    signed share (what the model uses overall, consistently in one direction: function words whose sign
    varies fall back), "mass" by the share, "mean" by the mean absolute attribution of keys seen at least
    ``min_count`` times (frequency-normalised). ``params`` go to the explainer.
    """
    from ...api import explain

    model = wrap(model)
    d = labelled(data, label_column, text_column, class_names, model)
    rows = d.frame.iloc[sample_rows(len(d.frame), n, seed)]
    n_classes = len(model.labels or d.labels)
    target = (1 if n_classes == 2 else None) if target is None else target
    inputs = rows[d.text_column].tolist() if d.is_text else rows[list(d.columns)]
    expl = explain(model, inputs, method=method, target=target, seed=seed, **params)
    keys = ([[word_key(w) for w in e.features] for e in expl] if d.is_text else _row_keys(d, rows, n_bins))
    count: dict[str, int] = defaultdict(int)
    signed: dict[str, list[float]] = defaultdict(list)
    for e, row_keys in zip(expl, keys):
        seen: set[str] = set()
        for key, a in zip(row_keys, np.asarray(e.attributions, dtype=np.float64).reshape(-1)):
            if key is None:
                continue
            signed[key].append(a)
            if key not in seen:
                count[key] += 1
                seen.add(key)
    total = sum(np.abs(v).sum() for v in signed.values()) or 1.0
    names = model.labels or list(d.labels)
    toward = names[int(target)] if isinstance(target, (int, np.integer)) else (
        target if isinstance(target, str) else "each row's predicted class")
    candidates = []
    for key, values in signed.items():
        v = np.asarray(values)
        mass, mean, mean_abs = float(np.abs(v).sum() / total), float(v.mean()), float(np.abs(v).mean())
        signed_share = float(abs(v.sum()) / total)
        if rank_by == "mean" and count[key] < min_count:
            continue
        half = 1.96 * float(v.std(ddof=1)) / np.sqrt(len(v)) if len(v) > 1 else float("nan")
        points = (toward if mean >= 0 else (names[0] if n_classes == 2 and isinstance(target, (int, np.integer))
                                            and int(target) == 1 else f"not {toward}"))
        finding = (f"{key!r} takes {100 * mass:.1f}% of all attribution mass, {100 * signed_share:.1f}% net of "
                   f"sign ({method} on {len(rows):,} examples, "
                   f"in {count[key]:,} of them); where it appears it moves the score for {toward} by {mean:+.3f} "
                   f"on average (towards {points})")
        kind = "token" if d.is_text else ("value" if " = " in key else "range")
        score = {"signed": signed_share, "mass": mass, "mean": mean_abs}[rank_by]
        candidates.append(Candidate(key, kind, score, mean, finding, points,
                                    (mean - half, mean + half), None,
                                    {"count": count[key], "occurrences": len(v), "mass": mass,
                                     "signed_mass": signed_share, "mean": mean, "mean_abs": mean_abs}))
    candidates.sort(key=lambda c: (-c.score, c.key))
    params_out = {"method": method, "n": len(rows), "target": toward, "seed": seed, "rank_by": rank_by,
                  "min_count": min_count, "explainer_params": {k: str(v) for k, v in params.items()},
                  "score": {"signed": "|sum of signed attribution| / all |attribution|",
                            "mass": "share of all |attribution|", "mean": "mean |attribution| per occurrence"}[rank_by],
                  "effect": f"mean signed attribution per occurrence (towards {toward})"}
    return Findings("attributions", candidates, params_out)

"""Worst slices through ``lumos.robustness.slices``: for every candidate feature and label, the slice "feature
present and label k" (where a model that leans on the feature fails), plus, for tables, the worst feature-value
pairs that the robustness slicer discovers itself."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ...errors import InputError
from ...models import wrap
from ...params import SEED, Bool, Int, Optional, Table
from ...robustness.slices import Rule, slices
from ..data import labelled
from ..features import candidate_features
from ..result import Candidate, Findings
from ._register import data_rules, discoverer


@discoverer("worst_slices", rules={**data_rules(), "probs": Optional(Table()), "seed": SEED,
                                    "max_rules": Int(low=1), "discover": Bool()})
def worst_slices(model: Any, data: Any, *, min_count: int = 20, probs: np.ndarray | None = None, seed: int = 0,
                 max_rules: int = 50, ngram_range: tuple[int, int] = (1, 1), n_bins: int = 4, discover: bool = True,
                 label_column: str = "label", text_column: str | None = None,
                 class_names: Sequence[str] | None = None) -> Findings:
    """Slices of ``data`` ranked by how far their accuracy falls below the overall accuracy.

    Rules: "<feature> & label <k>" for every feature and label with at least ``min_count`` examples (the
    slice an artifact's contradicting examples fall in); the ``max_rules`` with the lowest accuracy go to the
    slicer for their intervals and calibration. Tables also get the slicer's discovered feature-value pairs
    when ``discover``. score = overall accuracy - slice accuracy; effect = slice accuracy - overall,
    with the Wilson interval shifted alike. ``probs``: the model's (N, K) outputs if already computed.
    """
    d = labelled(data, label_column, text_column, class_names, model)
    if probs is None:
        probs = wrap(model).predict_proba(d.inputs())
    probs = np.asarray(probs, dtype=np.float64)
    if probs.shape != (len(d.y), len(d.labels)) and not (probs.ndim == 2 and len(probs) == len(d.y)
                                                       and probs.shape[1] > d.y.max()):
        raise InputError(f"worst_slices: probs must be (N, K) for the {len(d.y)} rows of data and their "
                         f"{len(d.labels)} labels; got shape {probs.shape}.")
    feats = candidate_features(d, min_count, ngram_range, n_bins)
    x = feats.x.tocsc()
    hit = (probs.argmax(1) == d.y).astype(np.float64)
    onehot = np.eye(len(d.labels))[d.y]
    sizes = np.asarray(x.T @ onehot)  # (F, K) examples per feature and label
    hits = np.asarray(x.T @ (onehot * hit[:, None]))
    j_idx, k_idx = np.nonzero(sizes >= min_count)
    accuracy = hits[j_idx, k_idx] / sizes[j_idx, k_idx]
    screened = np.lexsort((np.array(feats.keys, dtype=object)[j_idx].astype(str), accuracy))[:max_rules]
    rules, keys = [], {}
    for j, k in zip(j_idx[screened], k_idx[screened]):
        mask = (x[:, j].toarray().ravel() > 0) & (d.y == k)
        name = f"{feats.keys[j]!r} & label {d.label_name(int(k))}"
        rules.append(Rule(name, lambda _, m=mask: m))
        keys[name] = (feats.keys[j], feats.kinds[j], d.label_name(int(k)))
    report = slices(None, d.features if not d.is_text else d.texts, d.y, rules=rules,
                    discover=discover and not d.is_text, min_size=min_count, top=10, seed=seed, probs=probs)
    candidates = []
    for s in sorted(report.slices, key=lambda s: (s.difference, s.name)):
        key, kind, label = keys.get(s.name, (s.name, "slice", None))
        lo, hi = s.difference_ci
        finding = (f"{s.name} ({s.size:,} examples): accuracy {s.accuracy:.3f} [{s.accuracy_ci[0]:.3f}, "
                   f"{s.accuracy_ci[1]:.3f}] against {report.overall_accuracy:.3f} overall")
        candidates.append(Candidate(key, kind, float(-s.difference), float(s.difference), finding, label,
                                    (float(lo), float(hi)), None,
                                    {"slice": s.name, "size": s.size, "accuracy": s.accuracy, "ece": s.ece,
                                     "source": s.source}))
    params = {"min_count": min_count, "rules": len(rules), "screened_from": int(len(j_idx)),
              "discover": discover and not d.is_text, "seed": seed,
              "overall_accuracy": report.overall_accuracy, "overall_ece": report.overall_ece,
              "score": "overall accuracy - slice accuracy", "effect": "slice accuracy - overall accuracy"}
    return Findings("worst_slices", candidates, params)

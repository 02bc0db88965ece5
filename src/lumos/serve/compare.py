"""Two runs over the same examples (two models, e.g. before and after a repair): accuracy of each with its
interval, how often they agree, the examples whose prediction changed, and those whose explanation (the same
method in both runs) changed most."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from ..bench.store import Store, from_blob
from ..comparison import pair_scores
from ..explanation import feature_vector
from ..robustness.slices import wilson
from .index import class_index

MAX_EXPLAINED = 5000  # examples whose explanations are compared (the first ones matched)


@dataclass
class Side:
    run_id: str
    model: str
    labels: list[str]
    accuracy: float | None
    interval: tuple[float, float] | None


@dataclass
class Changed:
    a_example: int
    b_example: int
    raw: str
    label: str | None
    a_predicted: str
    b_predicted: str
    a_confidence: float
    b_confidence: float
    verdict: str  # "fixed", "broken", "changed" or "same"
    distance: float | None = None  # 1 - Spearman of the two explanations


@dataclass
class Comparison:
    a: Side
    b: Side
    matched: int
    agree: float | None
    fixed: int
    broken: int
    flips: list[Changed]
    methods: list[str]
    moved: dict[str, list[Changed]] = field(default_factory=dict)
    mean_agreement: dict[str, float] = field(default_factory=dict)


def _run(store: Store, run_id: str) -> tuple[str, list[str], str]:
    spec, labels, modality = store.db.execute("SELECT spec, labels, modality FROM runs WHERE run_id=?",
                                              (run_id,)).fetchone()
    return json.loads(spec).get("model", ""), json.loads(labels or "null") or [], modality or ""


def _predictions(store: Store, run_id: str, ids: list[int]) -> dict[int, np.ndarray]:
    out = {}
    for lo in range(0, len(ids), 500):
        part = ids[lo:lo + 500]
        marks = ",".join("?" * len(part))
        out.update({e: np.asarray(json.loads(p)) for e, p, _ in store.db.execute(
            f"SELECT example_id, probs, MIN(method) FROM attributions WHERE run_id=? AND example_id IN ({marks}) "
            "GROUP BY example_id", [run_id, *part])})
    return out


def matched(store: Store, run_a: str, run_b: str) -> list[tuple[int, int, str, str | None]]:
    """(example in a, example in b, input, label in a) for the examples of both runs, one to one: the k-th
    occurrence of an input in one run goes with its k-th occurrence in the other."""
    waiting: dict[str, list[int]] = {}
    for e, raw in store.db.execute("SELECT example_id, input FROM examples WHERE run_id=? ORDER BY example_id DESC",
                                   (run_b,)):
        waiting.setdefault(raw, []).append(e)
    out = []
    for e, raw, label in store.db.execute("SELECT example_id, input, label FROM examples WHERE run_id=? "
                                          "ORDER BY example_id", (run_a,)):
        if waiting.get(raw):
            out.append((e, waiting[raw].pop(), raw, label))
    return out


def compare(store: Store, run_a: str, run_b: str, limit: int = 20) -> Comparison:
    """Match the two runs' examples by identical input and compare them (``limit`` rows per list)."""
    model_a, labels_a, _ = _run(store, run_a)
    model_b, labels_b, _ = _run(store, run_b)
    pairs = matched(store, run_a, run_b)
    pa = _predictions(store, run_a, [p[0] for p in pairs])
    pb = _predictions(store, run_b, [p[1] for p in pairs])
    both = [p for p in pairs if p[0] in pa and p[1] in pb]
    rows, hits_a, hits_b, same = [], [], [], []
    for ea, eb, raw, label in both:
        ya, yb = int(pa[ea].argmax()), int(pb[eb].argmax())
        truth = class_index(label, labels_a)
        name_a = labels_a[ya] if ya < len(labels_a) else str(ya)
        name_b = labels_b[yb] if yb < len(labels_b) else str(yb)
        same.append(name_a == name_b)
        verdict = "same" if name_a == name_b else "changed"
        if truth is not None:
            hits_a.append(ya == truth)
            hits_b.append(class_index(label, labels_b) == yb)
            if hits_a[-1] != hits_b[-1]:
                verdict = "fixed" if hits_b[-1] else "broken"
        rows.append(Changed(ea, eb, raw, label, name_a, name_b, float(pa[ea][ya]), float(pb[eb][yb]), verdict))

    def side(run_id: str, model: str, labels: list[str], hits: list[bool]) -> Side:
        if not hits:
            return Side(run_id, model, labels, None, None)
        return Side(run_id, model, labels, float(np.mean(hits)), wilson(int(np.sum(hits)), len(hits)))

    flips = sorted((r for r in rows if r.verdict != "same"), key=lambda r: ("fixed", "broken", "changed").index(
        r.verdict))
    result = Comparison(side(run_a, model_a, labels_a, hits_a), side(run_b, model_b, labels_b, hits_b), len(rows),
                        float(np.mean(same)) if same else None, sum(r.verdict == "fixed" for r in rows),
                        sum(r.verdict == "broken" for r in rows), flips[:limit], [])
    _explanations(store, result, run_a, run_b, rows[:MAX_EXPLAINED], limit)
    return result


def _explanations(store: Store, result: Comparison, run_a: str, run_b: str, rows: list[Changed], limit: int) -> None:
    """Per method both runs have: the examples whose explanations differ most (1 - Spearman of the scores)."""
    methods = sorted({m for (m,) in store.db.execute("SELECT DISTINCT method FROM attributions WHERE run_id=?",
                                                     (run_a,))}
                     & {m for (m,) in store.db.execute("SELECT DISTINCT method FROM attributions WHERE run_id=?",
                                                       (run_b,))})
    result.methods = methods
    by_a = {r.a_example: r for r in rows}
    for method in methods:
        maps = {}
        for run_id, key in ((run_a, "a"), (run_b, "b")):
            ids = [r.a_example if key == "a" else r.b_example for r in rows]
            for lo in range(0, len(ids), 500):
                part = ids[lo:lo + 500]
                marks = ",".join("?" * len(part))
                for e, blob in store.db.execute(f"SELECT example_id, attributions FROM attributions WHERE run_id=? AND "
                                                f"method=? AND example_id IN ({marks})", [run_id, method, *part]):
                    maps[(key, e)] = feature_vector(from_blob(blob))
        moved, rhos = [], []
        for ea, r in by_a.items():
            a, b = maps.get(("a", ea)), maps.get(("b", r.b_example))
            if a is None or b is None or a.shape != b.shape:
                continue
            rho = pair_scores(a, b, 5, True)["spearman"]
            if np.isfinite(rho):
                rhos.append(rho)
                moved.append(Changed(**{**r.__dict__, "distance": 1.0 - rho}))
        result.moved[method] = sorted((c for c in moved if (c.distance or 0.0) > 1e-9), key=lambda c: -c.distance)[:limit]
        if rhos:
            result.mean_agreement[method] = float(np.mean(rhos))

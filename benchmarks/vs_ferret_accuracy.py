#!/usr/bin/env python
"""lumos beside ferret at equal accuracy: how many model evaluations (and seconds) lumos needs to be as close to
the exact answer as ferret's LIME and Partition SHAP are, and the time of explain + evaluate at that budget.

The classifier, the ferret environment and ferret's side are those of ``benchmarks/vs_ferret.py`` (MiniLM-L6
with a 2-class head drawn with seed 0; ferret-xai 0.4.2 in .venv-ferret; word-piece granularity, [MASK]
removal). Sentences: the first N test sentences of 6 to ``--max-tokens`` word pieces, so that every
sentence's game can be enumerated: the model's probability of the target on all 2^T maskings is computed once,
through lumos's removal, and gives
- the exact Shapley values (what kernel SHAP estimates; ferret's Partition SHAP estimates Owen values over its
  token clustering, which is part of its error against them), and
- the exact LIME answer at ferret's budget B = min(T^2, 5000) (T with [CLS] and [SEP]): the weighted ridge on
  every masking with its expected weight B x P(drawn) x kernel, alpha = 1; lumos's lime at a budget b uses
  alpha x b / B, which has the same expected objective.
Both sides' attributions are L1-normalised (ferret's Benchmark.explain normalises; the exact values are
normalised the same way); the error of a sentence is the L2 distance of the normalised vectors, and a library's
error is the median over sentences. lumos's estimators are run on the enumerated games at several budgets
(counting rows), the smallest budget whose error is at most ferret's is taken, and then lumos explain +
evaluate (the same three metrics as vs_ferret.py) is timed on the real model at that budget, against ferret's
explain + evaluate times.

Usage:  python benchmarks/vs_ferret_accuracy.py [--n 10] [--max-tokens 12] [--no-wait]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import tempfile
import time
import warnings
from math import comb
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import lumos  # noqa: E402
from _contention import Contention  # noqa: E402
from lumos.explainers.exact_shapley import all_coalitions, shapley_from_values  # noqa: E402
from lumos.explainers.lime import cosine_kernel, weighted_ridge  # noqa: E402
from lumos.features.masking import masked_probs  # noqa: E402
from lumos.features.removal import removable  # noqa: E402
from vs_ferret import (LUMOS_METRICS, ROOT, ensure_ferret_venv, make_classifier, run_ferret,  # noqa: E402
                       wait_quiet)

SHAP_BUDGETS = [25, 50, 75, 100, 150, 200, 300, 500]
LIME_FRACTIONS = [0.125, 0.2, 0.25, 0.3, 1 / 3, 0.4, 0.5, 0.75, 1.0]
LIME_SAMPLINGS = ["kernel", "antithetic", "random"]
SHAP_METHODS = ["regression_shap", "leverage_shap", "kernel_shap"]


def pick_sentences(tok, n: int, max_tokens: int) -> list[str]:
    from lumos.zoo.datasets import sentiment

    out = []
    for t in sentiment().splits["test"].text:
        if 6 <= len(tok(t, add_special_tokens=False)["input_ids"]) <= max_tokens:
            out.append(t)
        if len(out) == n:
            break
    return out


class Game:
    """One sentence's game on {0, 1}^T (a table), as a classifier lumos and the estimators can call."""

    def __init__(self, table: np.ndarray, n: int):
        self.table, self.n, self.rows = table, n, 0
        self.bits = 1 << np.arange(n)

    def __call__(self, z):
        z = np.asarray(z)
        self.rows += len(z)
        p = self.table[(z > 0.5).astype(np.int64) @ self.bits]
        return np.stack([1 - p, p], axis=1)


def normalised(a: np.ndarray) -> np.ndarray:
    s = np.abs(a).sum()
    return a / s if s > 0 else a


def exact_lime(table: np.ndarray, n: int, budget: int, width: float, alpha: float) -> np.ndarray:
    """The weighted ridge on all 2^n maskings with their expected weights at ``budget`` samples."""
    z = all_coalitions(n)
    removed = n - z.sum(1)
    chance = np.where(removed > 0, 1.0 / (n * np.array([comb(n, int(k)) for k in removed])), 0.0)
    weight = np.where(removed > 0, chance * (budget - 1), 1.0) * cosine_kernel(z, width)
    return weighted_ridge(z.astype(np.float64), table, weight[None], alpha)[0][0]


def lumos_on_game(game: Game, method: str, budget: int, seed: int, **params) -> np.ndarray | None:
    n = game.n
    try:
        e = lumos.explain(lumos.wrap(game, batch_size=4096), np.ones((1, n)), method, target=1,
                          background=np.zeros((1, n)), n_samples=budget, seed=seed, **params)
    except lumos.InputError:
        return None
    return e[0].attributions.astype(np.float64)


def smallest_budget(errors: dict[int, float], goal: float) -> int | None:
    return next((b for b in sorted(errors) if errors[b] <= goal), None)


def time_lumos(model, texts, targets, method: str, params: dict) -> tuple[float, float, int]:
    """Seconds per sentence for explain and for evaluate (the three metrics), and model rows of explain."""
    warm = lumos.explain(model, ["a fine film"], method, target=0, granularity="token", **params)
    lumos.evaluate(model, ["a fine film"], warm, LUMOS_METRICS)
    model.reset_counts()
    t0 = time.perf_counter()
    expl = lumos.explain(model, texts, method, target=targets, granularity="token", seed=0, **params)
    t1 = time.perf_counter()
    rows = model.counts.rows
    lumos.evaluate(model, texts, expl, LUMOS_METRICS)
    t2 = time.perf_counter()
    return (t1 - t0) / len(texts), (t2 - t1) / len(texts), rows // len(texts)


def time_lime(model, texts, targets, params: list[dict]) -> tuple[float, float, int]:
    """``time_lumos`` for lime with each sentence's own budget (ferret's B grows with its length): explained one
    by one, then evaluated together in one batched call (the metrics do not depend on the budget)."""
    warm = lumos.explain(model, ["a fine film"], "lime", target=0, granularity="token", **params[0])
    lumos.evaluate(model, ["a fine film"], warm, LUMOS_METRICS)
    model.reset_counts()
    t0 = time.perf_counter()
    parts = [lumos.explain(model, [t], "lime", target=[y], granularity="token", seed=0, **p)
             for t, y, p in zip(texts, targets, params)]
    t1 = time.perf_counter()
    rows = model.counts.rows
    expl = lumos.Explanations([e[0] for e in parts], parts[0].explainer, parts[0].granularity, seed=0)
    lumos.evaluate(model, texts, expl, LUMOS_METRICS)
    t2 = time.perf_counter()
    return (t1 - t0) / len(texts), (t2 - t1) / len(texts), rows // len(texts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--max-tokens", type=int, default=12)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--ferret-venv", default=str(ROOT / ".venv-ferret"))
    ap.add_argument("--python", default=getattr(sys, "_base_executable", sys.executable))
    ap.add_argument("--no-wait", action="store_true")
    args = ap.parse_args()
    py = ensure_ferret_venv(Path(args.ferret_venv), args.python)
    print(f"# vs ferret at equal accuracy  {datetime.datetime.now().isoformat(timespec='seconds')}  python "
          f"{platform.python_version()}  torch {torch.__version__}  cores {os.cpu_count()}")
    print("# command: python benchmarks/vs_ferret_accuracy.py " + " ".join(sys.argv[1:]), flush=True)
    with tempfile.TemporaryDirectory(prefix="vs_ferret_acc_") as tmp:
        workdir = Path(tmp)
        hf_model, tok = make_classifier(workdir / "model")
        model = lumos.wrap((hf_model, tok))
        texts = pick_sentences(tok, args.n, args.max_tokens)
        with torch.no_grad():
            targets = hf_model(**tok(texts, padding=True, return_tensors="pt")).logits.argmax(1).tolist()
        lengths = [len(tok(t)["input_ids"]) for t in texts]
        lime_budget = [min(t * t, 5000) for t in lengths]

        # every sentence's game, once
        t0 = time.perf_counter()
        with model.session():
            batch = model.prepare(texts, "token")
            items = removable(model, batch, baseline="mask")
            tables = [masked_probs(model, [it], [all_coalitions(it.n_features)])[0][:, t]
                      for it, t in zip(items, targets)]
        sizes = [it.n_features for it in items]
        print(f"# {len(texts)} sentences of {min(sizes)}-{max(sizes)} word pieces; all maskings enumerated "
              f"({sum(2**s for s in sizes)} rows) in {time.perf_counter() - t0:.0f} s", flush=True)
        exact_shap = [normalised(shapley_from_values(v, n)) for v, n in zip(tables, sizes)]
        exact_lime_ = [normalised(exact_lime(v, n, b, 0.25, 1.0)) for v, n, b in zip(tables, sizes, lime_budget)]

        quiet, seen = (True, []) if args.no_wait else wait_quiet(900.0)
        job = {"model_dir": str(workdir / "model"), "sentences": texts, "targets": targets,
               "methods": ["lime", "kernel_shap"], "seed": 0, "repeat": 1}
        with Contention() as c_f:
            ferret_out = run_ferret(py, job, workdir)

        def ferret_error(name: str, exact: list[np.ndarray]) -> float:
            errs = [np.linalg.norm(normalised(np.asarray(f["scores"], dtype=np.float64)[1:-1]) - e)
                    for f, e in zip(ferret_out["methods"][name], exact)]
            return float(np.median(errs))

        def ferret_seconds(name: str) -> tuple[float, float, float]:
            per = ferret_out["methods"][name]
            return (np.mean([x["seconds_explain"] for x in per]), np.mean([x["seconds_evaluate"] for x in per]),
                    np.mean([x["rows_explain"] for x in per]))

        # lumos's estimators on the enumerated games
        shap_err = {m: {} for m in SHAP_METHODS}
        for m in SHAP_METHODS:
            for b in SHAP_BUDGETS:
                errs = []
                for v, n, ex in zip(tables, sizes, exact_shap):
                    runs = [lumos_on_game(Game(v, n), m, b, s) for s in range(args.seeds)]
                    if any(r is None for r in runs):
                        errs = None
                        break
                    errs.append(np.mean([np.linalg.norm(normalised(r) - ex) for r in runs]))
                if errs is not None:
                    shap_err[m][b] = float(np.median(errs))
        lime_err = {s: {} for s in LIME_SAMPLINGS}
        for sampling in lime_err:
            for frac in LIME_FRACTIONS:
                errs = []
                for v, n, ex, big in zip(tables, sizes, exact_lime_, lime_budget):
                    b = max(2, int(round(frac * big)))
                    runs = [lumos_on_game(Game(v, n), "lime", b, s, sampling=sampling, kernel_width=0.25,
                                          alpha=1.0 * (b - 1) / (big - 1)) for s in range(args.seeds)]
                    errs.append(np.mean([np.linalg.norm(normalised(r) - ex) for r in runs]))
                lime_err[sampling][frac] = float(np.median(errs))

        goal_shap, goal_lime = ferret_error("kernel_shap", exact_shap), ferret_error("lime", exact_lime_)
        best_shap = {m: smallest_budget(shap_err[m], goal_shap) for m in SHAP_METHODS}
        lime_best = {s: smallest_budget(lime_err[s], goal_lime) for s in LIME_SAMPLINGS}
        sampling = min(LIME_SAMPLINGS, key=lambda s: np.inf if lime_best[s] is None else lime_best[s])
        frac = lime_best[sampling]

        rows = []
        fs = ferret_seconds("kernel_shap")
        for m in SHAP_METHODS:
            b = best_shap[m]
            if b is None:
                rows.append((f"{m} (lumos) vs Partition SHAP (ferret)", "not reached by 500", fs, None))
                continue
            with Contention() as c_l:
                ls = time_lumos(model, texts, targets, m, {"n_samples": b, "baseline": "mask"})
            rows.append((f"{m} (lumos) vs Partition SHAP (ferret)", f"{b} vs 500", fs, ls))
        fl = ferret_seconds("lime")
        if frac is not None:
            per = [max(2, int(round(frac * big))) for big in lime_budget]
            ll = time_lime(model, texts, targets, [{"n_samples": k, "baseline": "mask", "kernel_width": 0.25,
                                                    "alpha": (k - 1) / (big - 1), "sampling": sampling}
                                                   for k, big in zip(per, lime_budget)])
            rows.append((f"lime {sampling} (lumos) vs LIME (ferret)", f"{frac:.3g} x B vs B", fl, ll))
        else:
            rows.append(("lime (lumos) vs LIME (ferret)", "not reached by B", fl, None))

    print()
    print(f"Error of L1-normalised attributions against the exact answer (median over {len(texts)} sentences; "
          f"lumos: mean over {args.seeds} seeds):")
    print()
    print(f"- ferret Partition SHAP, 500 evaluations: {goal_shap:.4f} (against exact Shapley values)")
    print(f"- ferret LIME, B = min(T^2, 5000) = {np.mean(lime_budget):.0f} on average: {goal_lime:.4f} "
          "(against the exact LIME answer at B)")
    print()
    print("| lumos estimator | " + " | ".join(str(b) for b in SHAP_BUDGETS) + " |")
    print("|---|" + "---:|" * len(SHAP_BUDGETS))
    for m in SHAP_METHODS:
        print(f"| {m} | " + " | ".join(f"{shap_err[m][b]:.4f}" if b in shap_err[m] else "n/a"
                                       for b in SHAP_BUDGETS) + " |")
    print()
    print("| lumos lime, budget as a fraction of B | " + " | ".join(f"{f:.3g}" for f in LIME_FRACTIONS) + " |")
    print("|---|" + "---:|" * len(LIME_FRACTIONS))
    for s in lime_err:
        print(f"| {s} | " + " | ".join(f"{lime_err[s][f]:.4f}" for f in LIME_FRACTIONS) + " |")
    print()
    print("Seconds per sentence at equal accuracy (explain + evaluate with aopc_comprehensiveness, "
          "aopc_sufficiency, taucorr_loo), real model:")
    print()
    print("| comparison | evaluations (lumos vs ferret) | ferret explain + evaluate | lumos explain + evaluate "
          "| ferret / lumos |")
    print("|---|---|---:|---:|---:|")
    for name, budget, f, l in rows:
        fcell = f"{f[0]:.2f} + {f[1]:.2f} = {f[0] + f[1]:.2f}"
        if l is None:
            print(f"| {name} | {budget} | {fcell} | | |")
            continue
        print(f"| {name} | {budget} | {fcell} | {l[0]:.2f} + {l[1]:.2f} = {l[0] + l[1]:.2f} | "
              f"{(f[0] + f[1]) / (l[0] + l[1]):.1f}x |")
    waited = ("quietness not checked (--no-wait)" if args.no_wait else
              "quiet machine when it started" if quiet else "NOT a quiet machine: " + "; ".join(seen))
    print()
    print(f"{datetime.date.today().isoformat()}, {platform.machine()}, {os.cpu_count()} cores, torch "
          f"{torch.__version__}; {waited}; other processes used {c_f.share:.0%} of the cores during the ferret "
          f"run.")


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Error against exact Shapley values per model evaluation: lumos's estimators beside shap and captum.

Three workloads (``--workload``), 20 inputs each by default; a player per feature:
- ``quadratic``: f(x) = sigmoid(w.x + x'Ax) on d = 10 standard-normal features (w, A drawn with seed 0), one
  background row (zeros), so v(S) = p_target(x_S, 0_rest).
- ``adult``: the zoo's tabular/adult/gbm, its columns as players, 50 background rows drawn from the training split
  as ``lumos bench`` draws them; v(S) = mean over the background rows of p_target(x_S, background_rest).
- ``text``: the zoo's sentiment/minilm on test sentences of exactly ``--words`` (default 12) words, a player per
  word; v(S) = p_target(the sentence with the words outside S deleted).
For every input, v is computed once on all 2^F coalitions through lumos's own removal (``features.removable``
and ``masked_probs``), which gives the exact Shapley values (checked against an independent sum on one input);
every library then receives the same game as a function on {0, 1}^F (a table lookup), and the script counts the
rows each one asks for. So "evaluations" are the model rows a library would spend, and the errors are those it
would reach, on the real model.

For budgets 125 ... 2000 it reports the median over inputs of the L2 error ||phi - exact|| (mean over seeds),
the rows each library actually asked for, and for each lumos estimator the budget at which it reaches shap
KernelExplainer's error at 500 evaluations (log-log interpolation). ``--amortised`` (quadratic, adult) also
trains FastSHAP (``lumos.amortised``) on training rows and reports its error on the same inputs and its time
per example against kernel_shap on the real model.

Usage:  python benchmarks/shapley_error.py --workload quadratic|adult|text [--inputs 20] [--seeds 3]
        [--budgets 125,250,500,1000,2000] [--amortised] [--quick] [--only regression_shap,kernel_shap]
        [--cache benchmarks/results/shapley-adult.npz]   (keeps the exact tables, minutes each, between runs)
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
import warnings
from itertools import combinations
from math import comb

warnings.filterwarnings("ignore")
# the estimators' linear algebra is small: on a shared machine BLAS threads only wait on each other (a 500 x 55
# SVD took seconds with two), so this benchmark runs it on one thread
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import lumos  # noqa: E402
from lumos.explainers.exact_shapley import all_coalitions, shapley_from_values  # noqa: E402
from lumos.features.masking import masked_probs  # noqa: E402
from lumos.features.removal import removable  # noqa: E402
from lumos.models.base import pickle_hash  # noqa: E402

BUDGETS = [125, 250, 500, 1000, 2000]
LUMOS = {"kernel_shap": ("kernel_shap", {}), "leverage_shap": ("leverage_shap", {}),
         "regression_shap": ("regression_shap", {}),
         "regression_shap (trees)": ("regression_shap", {"surrogate": "trees"}),
         "permutation_shap": ("permutation_shap", {}), "stratified_shap": ("stratified_shap", {})}
ANCHOR = "shap KernelExplainer (default)"


# ---------------------------------------------------------------------------------------------------------
# workloads: a model, its inputs, and every input's game on all coalitions
# ---------------------------------------------------------------------------------------------------------
def quadratic_problem(n_inputs: int):
    rng = np.random.default_rng(0)
    d = 10
    w, a = rng.normal(size=d), np.triu(rng.normal(scale=0.5, size=(d, d)), 1)

    def f(x):
        x = np.asarray(x, dtype=np.float64)
        p = 1 / (1 + np.exp(-(x @ w + np.einsum("ij,jk,ik->i", x, a, x))))
        return np.stack([1 - p, p], axis=1)

    x = rng.normal(size=(n_inputs, d))
    train = rng.normal(size=(2000, d))
    what = "quadratic-logistic: f(x) = sigmoid(w.x + x'Ax), d = 10, x ~ N(0, I); background: one row of zeros"
    return lumos.wrap(f), x, np.zeros((1, d)), train, what


def adult_problem(n_inputs: int):
    from lumos import zoo

    model, splits = zoo.load("tabular/adult/gbm", progress=False)
    cols = [c for c in splits["test"].columns if c != "label"]
    background = splits["train"][cols].sample(50, random_state=0)  # as lumos bench draws it
    x = splits["test"][cols].iloc[:n_inputs].reset_index(drop=True)
    train = splits["train"][cols].sample(1000, random_state=1)
    what = (f"zoo tabular/adult/gbm, {len(cols)} columns as players; background: 50 training rows "
            "(random_state=0, as lumos bench); v(S) averages the model over them")
    return model, x, background, train, what


def text_problem(n_inputs: int, words: int):
    from lumos import zoo
    from lumos.zoo import datasets

    model, _ = zoo.load("sentiment/minilm", progress=False)
    test = datasets.sentiment().splits["test"]["text"]
    texts = [t for t in test if len(t.split()) == words][:n_inputs]
    what = (f"zoo sentiment/minilm on {len(texts)} test sentences of exactly {words} words, a player per word, "
            "removed words deleted")
    return model, texts, None, None, what


def coalition_tables(model, inputs, background) -> tuple[list[np.ndarray], np.ndarray, int]:
    """Every input's v on all 2^F coalitions (for its predicted class), through lumos's removal."""
    with model.session():
        batch = model.prepare(inputs)
        probs = model.evaluate(batch.rows())
        targets = probs.argmax(1)
        items = removable(model, batch, background=background)
        tables = []
        for item, t in zip(items, targets):  # one input at a time: bounded memory
            tables.append(masked_probs(model, [item], [all_coalitions(item.n_features)])[0][:, t])
    return tables, targets, items[0].n_features


def cached_tables(path: str | None, model, inputs, background) -> tuple[list[np.ndarray], np.ndarray, int]:
    """``coalition_tables``, kept in ``path`` (.npz) with a fingerprint of the model and inputs so a rerun with
    other estimators skips the 2^F model rows per input. A plain callable (the quadratic workload) has no weights
    hash, so its tables are recomputed every time (they take milliseconds)."""
    if model.weights_hash() is None:
        path = None
    key = pickle_hash(model.weights_hash(), inputs, background)
    if path and os.path.exists(path):
        kept = np.load(path)
        if str(kept["key"]) == key:
            return list(kept["tables"]), kept["targets"], int(kept["n"])
        print(f"# {path} was made for other inputs or another model: recomputing")
    tables, targets, n = coalition_tables(model, inputs, background)
    if path:
        np.savez(path, tables=np.stack(tables), targets=targets, n=n, key=key)
    return tables, targets, n


def brute_force_shapley(v: np.ndarray, n: int) -> np.ndarray:
    """Independent reference: phi_j = sum_S |S|!(n-|S|-1)!/n! (v(S+j) - v(S))."""
    phi = np.zeros(n)
    for j in range(n):
        others = [k for k in range(n) if k != j]
        for s in range(n):
            w = 1.0 / (n * comb(n - 1, s))
            for sub in combinations(others, s):
                m = sum(1 << k for k in sub)
                phi[j] += w * (v[m | (1 << j)] - v[m])
    return phi


class Game:
    """The game of one input as a classifier on {0, 1}^F rows (p(class 1) = v(S)), counting its rows."""

    def __init__(self, table: np.ndarray, n: int):
        self.table, self.n, self.rows = table, n, 0
        self.bits = 1 << np.arange(n)

    def v(self, z) -> np.ndarray:
        z = np.asarray(z)
        self.rows += len(z)
        return self.table[(z > 0.5).astype(np.int64) @ self.bits]

    def __call__(self, z) -> np.ndarray:
        p = self.v(z)
        return np.stack([1 - p, p], axis=1)


# ---------------------------------------------------------------------------------------------------------
# the libraries, each given a Game and a budget
# ---------------------------------------------------------------------------------------------------------
def lumos_run(method: str, params: dict):
    def run(game: Game, budget: int, seed: int) -> np.ndarray | None:
        n = game.n
        try:
            e = lumos.explain(lumos.wrap(game, batch_size=4096), np.ones((1, n)), method, target=1,
                              background=np.zeros((1, n)), n_samples=budget, seed=seed, **params)
        except lumos.InputError:  # below the method's smallest budget
            return None
        return e[0].attributions.astype(np.float64)
    return run


def shap_kernel(l1_reg):
    def run(game: Game, budget: int, seed: int) -> np.ndarray:
        import shap

        np.random.seed(seed)
        explainer = shap.KernelExplainer(game.v, np.zeros((1, game.n)))
        return np.asarray(explainer.shap_values(np.ones((1, game.n)), nsamples=budget, silent=True,
                                                l1_reg=l1_reg)).reshape(-1)
    return run


def shap_permutation(game: Game, budget: int, seed: int) -> np.ndarray | None:
    import shap

    if budget < 2 * game.n + 1:
        return None
    explainer = shap.PermutationExplainer(game.v, np.zeros((1, game.n)), seed=seed)
    return np.asarray(explainer(np.ones((1, game.n)), max_evals=budget, silent=True).values).reshape(-1)


def captum_kernel(game: Game, budget: int, seed: int) -> np.ndarray:
    from captum.attr import KernelShap

    torch.manual_seed(seed)
    ks = KernelShap(lambda z: torch.from_numpy(game(z.numpy())))
    return ks.attribute(torch.ones(1, game.n, dtype=torch.float64), baselines=torch.zeros(1, game.n, dtype=torch.float64),
                        target=1, n_samples=budget, perturbations_per_eval=budget)[0].numpy()


def captum_sampling(game: Game, budget: int, seed: int) -> np.ndarray | None:
    from captum.attr import ShapleyValueSampling

    perms = (budget - 1) // game.n  # each permutation costs n rows, plus the baseline once
    if perms < 1:
        return None
    torch.manual_seed(seed)
    svs = ShapleyValueSampling(lambda z: torch.from_numpy(game(z.numpy())))
    return svs.attribute(torch.ones(1, game.n, dtype=torch.float64), baselines=torch.zeros(1, game.n, dtype=torch.float64),
                         target=1, n_samples=perms, perturbations_per_eval=game.n)[0].numpy()


def libraries() -> list[tuple[str, object]]:
    return ([(f"lumos {label}", lumos_run(m, params)) for label, (m, params) in LUMOS.items()] +
            [(ANCHOR, shap_kernel("auto")), ("shap KernelExplainer (l1_reg=False)", shap_kernel(False)),
             ("shap PermutationExplainer", shap_permutation), ("captum KernelShap", captum_kernel),
             ("captum ShapleyValueSampling", captum_sampling)])


# ---------------------------------------------------------------------------------------------------------
# amortised: FastSHAP against kernel_shap on the real model
# ---------------------------------------------------------------------------------------------------------
def amortised(model, x, background, train, exact: np.ndarray, targets: np.ndarray, budgets: list[int]) -> list[str]:
    from lumos.amortised import fit_fastshap

    t0 = time.perf_counter()
    fs = fit_fastshap(model, train, background=background, n_coalitions=32, epochs=200, seed=0)
    train_s = time.perf_counter() - t0
    rows = []
    t0 = time.perf_counter()
    e = lumos.explain(model, x, "fastshap", explainer=fs, target=targets)
    fast_s = (time.perf_counter() - t0) / len(exact)
    fast_err = [np.linalg.norm(a.attributions - b) for a, b in zip(e, exact)]
    rows.append(("lumos fastshap", 0, 1.0, fast_s, np.median(fast_err)))
    for b in budgets:
        model.reset_counts()
        t0 = time.perf_counter()
        e = lumos.explain(model, x, "kernel_shap", background=background, n_samples=b, target=targets, seed=0)
        secs = (time.perf_counter() - t0) / len(exact)
        err = [np.linalg.norm(a.attributions - b_) for a, b_ in zip(e, exact)]
        rows.append((f"lumos kernel_shap, n_samples={b}", b, model.counts.rows / len(exact), secs, np.median(err)))
    out = [f"FastSHAP trained on {fs.info['rows']} training rows x {fs.info['coalitions_per_row']} coalitions "
           f"({fs.info['model_rows']:,} model rows) in {train_s:.1f} s (values {fs.info['seconds_values']:.1f} s, "
           f"network {train_s - fs.info['seconds_values']:.1f} s); validation loss {fs.info['validation_loss']:.2e}.",
           "", "| explainer | model rows / example | ms / example | kernel_shap time / this | median L2 error |",
           "|---|---:|---:|---:|---:|"]
    for name, b, r, s, err in rows:
        out.append(f"| {name} | {r:.0f} | {s * 1000:.2f} | {s / rows[0][3]:.0f}x | {err:.4f} |")
    break_even = train_s / max(rows[2][3] - rows[0][3], 1e-9) if len(rows) > 2 else float("nan")
    out += ["", f"Training pays for itself after about {break_even:.0f} examples against kernel_shap at "
                f"{rows[2][1]} evaluations (training seconds / seconds saved per example)."]
    return out


# ---------------------------------------------------------------------------------------------------------
def needed_budget(err: dict[int, float], goal: float, budgets: list[int]) -> float:
    """The budget at which an error curve reaches ``goal`` (log-log interpolation between measured budgets);
    NaN if it never does, the smallest budget if it already does there."""
    pts = [(b, err[b]) for b in budgets if np.isfinite(err.get(b, np.nan))]
    if not pts:
        return float("nan")
    if pts[0][1] <= goal:
        return float(pts[0][0])
    for (b0, e0), (b1, e1) in zip(pts, pts[1:]):
        if e1 <= goal:
            if e1 <= 0:
                return float(b1)
            t = (np.log(goal) - np.log(e0)) / (np.log(e1) - np.log(e0))
            return float(np.exp(np.log(b0) + t * (np.log(b1) - np.log(b0))))
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workload", choices=["quadratic", "adult", "text"], default="quadratic")
    ap.add_argument("--inputs", type=int, default=20)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--words", type=int, default=12, help="text: words per sentence (2^words coalitions each)")
    ap.add_argument("--budgets", default=None, help="comma list (default 125,250,500,1000,2000)")
    ap.add_argument("--amortised", action="store_true", help="also FastSHAP against kernel_shap (tables only)")
    ap.add_argument("--quick", action="store_true", help="4 inputs, 1 seed, budgets 125,500: a smoke run")
    ap.add_argument("--only", default=None,
                    help="comma list of substrings: run only the libraries whose name contains one (the anchor always)")
    ap.add_argument("--cache", default=None,
                    help="a .npz file keeping the exact coalition tables between runs (made if missing)")
    args = ap.parse_args()
    n_inputs, seeds = (4, 1) if args.quick else (args.inputs, args.seeds)
    budgets = [125, 500] if args.quick else BUDGETS
    if args.budgets:
        budgets = [int(b) for b in args.budgets.split(",")]
    print(f"# Shapley error  {datetime.datetime.now().isoformat(timespec='seconds')}  python "
          f"{platform.python_version()}  torch {torch.__version__}  cores {os.cpu_count()}")
    print("# command: python benchmarks/shapley_error.py " + " ".join(sys.argv[1:]))

    if args.workload == "quadratic":
        model, x, background, train, what = quadratic_problem(n_inputs)
    elif args.workload == "adult":
        model, x, background, train, what = adult_problem(n_inputs)
    else:
        model, x, background, train, what = text_problem(n_inputs, args.words)
    t0 = time.perf_counter()
    tables, targets, n = cached_tables(args.cache, model, x, background)
    exact = np.stack([shapley_from_values(v, n) for v in tables])
    check = np.abs(exact[0] - brute_force_shapley(tables[0], n)).max()
    print(f"# {what}; {len(tables)} inputs x {seeds} seeds; F = {n}")
    print(f"# exact values: all {2**n} coalitions of each input in {time.perf_counter() - t0:.1f} s; "
          f"max |exact - independent sum| on input 0 = {check:.1e}; median ||exact|| = "
          f"{np.median(np.linalg.norm(exact, axis=1)):.4f}", flush=True)

    libs = libraries()
    if args.only:
        keep = [k.strip() for k in args.only.split(",")]
        libs = [(name, run) for name, run in libs if name == ANCHOR or any(k in name for k in keep)]
    err = {name: {} for name, _ in libs}
    rows = {name: {} for name, _ in libs}
    for budget in budgets:
        for name, run in libs:
            per_input, used, ok = [], 0, True
            for i, table in enumerate(tables):
                game = Game(table, n)
                e = []
                for s in range(seeds):
                    phi = run(game, budget, 1000 * s + i)
                    if phi is None:
                        ok = False
                        break
                    e.append(np.linalg.norm(phi - exact[i]))
                if not ok:
                    break
                per_input.append(np.mean(e))
                used += game.rows
            err[name][budget] = float(np.median(per_input)) if ok else float("nan")
            rows[name][budget] = used / (len(tables) * seeds) if ok else float("nan")
        print(f"  budget {budget:5d}: " + "  ".join(f"{k.split(' (')[0].replace('lumos ', '')} {err[k][budget]:.4f}"
                                                for k, _ in libs), flush=True)

    print()
    print(f"### Median L2 error against exact Shapley values ({args.workload}, F = {n})")
    print()
    print("| library | " + " | ".join(str(b) for b in budgets) + " |")
    print("|---|" + "---:|" * len(budgets))
    for name, _ in libs:
        print(f"| {name} | " + " | ".join("n/a" if not np.isfinite(err[name][b]) else f"{err[name][b]:.4f}"
                                          for b in budgets) + " |")
    print()
    print("Model rows asked for per explanation (mean), by budget:")
    print()
    print("| library | " + " | ".join(str(b) for b in budgets) + " |")
    print("|---|" + "---:|" * len(budgets))
    for name, _ in libs:
        print(f"| {name} | " + " | ".join("n/a" if not np.isfinite(rows[name][b]) else f"{rows[name][b]:.0f}"
                                          for b in budgets) + " |")
    if 500 in budgets:
        goal, anchor_rows = err[ANCHOR][500], rows[ANCHOR][500]
        print()
        print(f"### Evaluations needed to reach {ANCHOR}'s error at 500 evaluations ({goal:.4f}, "
              f"{anchor_rows:.0f} rows)")
        print()
        print("| estimator | budget needed (interpolated) | rows at that budget | fewer evaluations than shap | "
              "target (<= 125) |")
        print("|---|---:|---:|---:|---|")
        for name, _ in libs:
            need = needed_budget(err[name], goal, budgets)
            if not np.isfinite(need):
                print(f"| {name} | not reached by {budgets[-1]} | | | missed |")
                continue
            rate = np.interp(need, budgets, [rows[name][b] for b in budgets]) if np.isfinite(
                [rows[name][b] for b in budgets]).all() else need
            mark = "met" if need <= 125 else "missed"
            prefix = "<= " if need == budgets[0] else ""
            print(f"| {name} | {prefix}{need:.0f} | {rate:.0f} | {prefix.replace('<=', '>=')}{anchor_rows / rate:.1f}x "
                  f"| {mark} |")
    if args.amortised and args.workload != "text":
        print()
        print("### Amortised: FastSHAP against kernel_shap on the real model (same inputs, exact values above)")
        print()
        print("\n".join(amortised(model, x, background, train, exact, targets, [125, 500, 2000])))
    print()


if __name__ == "__main__":
    main()

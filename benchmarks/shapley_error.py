#!/usr/bin/env python
"""How close do Kernel SHAP estimators get to the exact Shapley values, per model evaluation?

Tabular (default): a gradient-boosted classifier on a 12-feature synthetic table; one background row (the
training mean), so the value of a coalition S is v(S) = p_target(x_S, background_rest) for every library and
exact Shapley values are well defined and identical for all of them. Text (--workload text): the zoo's
fine-tuned sentiment/minilm on test sentences of exactly 12 words, a player per word, v(S) = p_target(the
sentence with the words outside S deleted), given to every library as the same function on {0, 1}^12. Exact values come from lumos ``exact_shapley`` (all 4096
coalitions) and are checked against an independent brute-force computation in this script.

For budgets 64 ... 2048 it reports the mean over explained rows (and seeds) of max_j |phi_j - exact_j| for
lumos kernel_shap, shap KernelExplainer (nsamples=budget; its default l1_reg and l1_reg=False) and captum
KernelShap (n_samples=budget), the model rows each actually evaluated, and for each anchor the smallest lumos
budget that reaches the anchor's error at 2048.

Usage:  python benchmarks/shapley_error.py [--quick] [--rows 20] [--seeds 3] [--workload tabular|text]
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

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.ensemble import GradientBoostingClassifier  # noqa: E402

import lumos  # noqa: E402

BUDGETS = [64, 128, 256, 512, 1024, 2048]
N_FEATURES = 12


class Counted:
    """predict_proba with a row counter, shared by every library."""

    def __init__(self, predict_proba):
        self.predict = predict_proba
        self.rows = 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        self.rows += len(x)
        return self.predict(x)

    def for_row(self, i: int) -> "Counted":
        """The game of explained row i (one game for every row of a table)."""
        return self


def brute_force_shapley(f, x: np.ndarray, bg: np.ndarray, t: int) -> np.ndarray:
    """Independent reference: phi_j = sum_S |S|!(n-|S|-1)!/n! (v(S+j) - v(S)), v from 2^n model rows."""
    n = len(x)
    keep = ((np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1).astype(bool)
    v = f(np.where(keep, x[None], bg[None]))[:, t]
    phi = np.zeros(n)
    for j in range(n):
        for s in range(n):
            w = 1.0 / (n * comb(n - 1, s))
            others = [k for k in range(n) if k != j]
            for sub in combinations(others, s):
                m = sum(1 << k for k in sub)
                phi[j] += w * (v[m | (1 << j)] - v[m])
    return phi


def tabular_problem(rows_n: int):
    """A gradient-boosted classifier on a 12-feature synthetic table; background: the training mean."""
    x_all, y_all = make_classification(n_samples=3000, n_features=N_FEATURES, n_informative=8, n_redundant=2,
                                       n_clusters_per_class=3, random_state=0)
    gb = GradientBoostingClassifier(n_estimators=150, max_depth=4, random_state=0).fit(x_all[:2000], y_all[:2000])
    what = (f"tabular: GradientBoostingClassifier(150 trees, depth 4), test accuracy "
            f"{gb.score(x_all[2000:], y_all[2000:]):.3f}; background: one row (the training mean)")
    return Counted(gb.predict_proba), x_all[2000:2000 + rows_n], x_all[:2000].mean(0), what


class WordCoalitions:
    """Text as a game on {0, 1}^12: row z keeps the words of a 12-word sentence where z is 1 (the others are
    deleted, as lumos's text methods delete them), and the zoo's fine-tuned sentiment/minilm scores the rest."""

    def __init__(self, sentences: list[list[str]]):
        from lumos import zoo

        model, _ = zoo.load("sentiment/minilm", progress=False)
        self.net, self.tokenizer = model.model, model.tokenizer
        self.sentences = sentences
        self.current = 0  # the sentence whose coalitions are being scored

    def __call__(self, z: np.ndarray) -> np.ndarray:
        words = self.sentences[self.current]
        texts = [" ".join(w for w, keep in zip(words, row) if keep > 0.5) for row in np.asarray(z)]
        out = []
        with torch.inference_mode():
            for lo in range(0, len(texts), 64):
                enc = self.tokenizer(texts[lo:lo + 64], padding=True, return_tensors="pt")
                out.append(torch.softmax(self.net(**enc).logits, 1).double().numpy())
        return np.concatenate(out)


def text_problem(rows_n: int):
    from lumos.zoo import datasets

    test = datasets.sentiment().splits["test"]["text"]
    sentences = [t.split() for t in test if len(t.split()) == N_FEATURES][:rows_n]
    game = WordCoalitions(sentences)
    f = PerRow(game)
    what = ("text: the zoo's sentiment/minilm (MiniLM-L6 fine-tuned on Rotten Tomatoes) on test sentences of "
            f"exactly {N_FEATURES} words, a player per word, removed words deleted")
    return f, np.ones((len(sentences), N_FEATURES)), np.zeros(N_FEATURES), what


class PerRow(Counted):
    """A game per explained row (text: each sentence is its own game on the same {0, 1}^12 cube)."""

    def __init__(self, game: WordCoalitions):
        super().__init__(game)
        self.game = game

    def for_row(self, i: int) -> "PerRow":
        self.game.current = i
        return self



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="4 rows, 1 seed, 3 budgets: a smoke run")
    ap.add_argument("--rows", type=int, default=20, help="explained rows")
    ap.add_argument("--seeds", type=int, default=3, help="independent runs per row and budget")
    ap.add_argument("--budgets", type=str, default=None, help="comma list (default 64,128,...,2048)")
    ap.add_argument("--workload", choices=["tabular", "text"], default="tabular",
                    help="tabular: gradient boosting on 12 features; text: sentiment/minilm on 12-word sentences")
    args = ap.parse_args()
    rows_n, seeds, budgets = (4, 1, [64, 256, 2048]) if args.quick else (args.rows, args.seeds, BUDGETS)
    if args.budgets:
        budgets = [int(b) for b in args.budgets.split(",")]
    print(f"# Shapley error  {datetime.datetime.now().isoformat(timespec='seconds')}  python "
          f"{platform.python_version()}  torch {torch.__version__}  cores {os.cpu_count()}")
    print("# command: python benchmarks/shapley_error.py " + " ".join(sys.argv[1:]))

    f, x, bg, what = (text_problem if args.workload == "text" else tabular_problem)(rows_n)
    targets = np.array([int(f.for_row(i)(x[i:i + 1])[0].argmax()) for i in range(len(x))])
    f.rows = 0
    print(f"# {what}; {rows_n} explained rows x {seeds} seeds")

    # ---- exact Shapley values: lumos exact_shapley, checked against brute force
    model = lumos.wrap(f)  # a callable batch -> probabilities; lumos counts its own rows
    t0 = time.perf_counter()
    exact_rows = []
    for i in range(rows_n):  # one game per row (text: per sentence), so one call per row
        f.for_row(i)
        exact_rows.append(lumos.explain(model, x[i:i + 1], "exact_shapley", target=int(targets[i]),
                                        background=bg[None], max_features=N_FEATURES)[0].attributions)
    exact = np.stack(exact_rows).astype(np.float64)
    t_exact = time.perf_counter() - t0
    ref = np.stack([brute_force_shapley(f.for_row(i), x[i], bg, int(targets[i])) for i in range(rows_n)])
    print(f"# exact_shapley: {t_exact:.2f} s for {rows_n} rows; max |lumos exact - brute force| = "
          f"{np.abs(exact - ref).max():.2e} (float32 attributions); mean max|phi| = {np.abs(ref).max(1).mean():.4f}")
    exact = ref  # float64 reference for the errors below

    import shap
    from captum.attr import KernelShap as CaptumKernelShap

    def lumos_ks(i, budget, seed):
        e = lumos.explain(model, x[i:i + 1], "kernel_shap", target=int(targets[i]), background=bg[None],
                          n_samples=budget, seed=seed)
        return e[0].attributions

    def shap_ks(l1_reg):
        def run(i, budget, seed):
            np.random.seed(seed)
            explainer = shap.KernelExplainer(f, bg[None])
            sv = np.asarray(explainer.shap_values(x[i:i + 1], nsamples=budget, silent=True, l1_reg=l1_reg))
            return sv[0, :, targets[i]] if sv.ndim == 3 else sv[targets[i]][0]
        return run

    def fwd_t(z: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(f(z.detach().numpy()))

    captum_ks = CaptumKernelShap(fwd_t)

    def captum_run(i, budget, seed):
        torch.manual_seed(seed)
        a = captum_ks.attribute(torch.from_numpy(x[i:i + 1]), baselines=torch.from_numpy(bg[None]),
                                target=int(targets[i]), n_samples=budget, perturbations_per_eval=budget)
        return a[0].numpy()

    libs = [("lumos kernel_shap", lumos_ks),
            ("shap KernelExplainer (l1_reg=False)", shap_ks(False)),
            ("shap KernelExplainer (default l1_reg)", shap_ks("num_features(10)")),
            ("captum KernelShap", captum_run)]
    err = {name: {} for name, _ in libs}
    rows_used = {name: {} for name, _ in libs}
    secs = {name: {} for name, _ in libs}
    for budget in budgets:
        for name, run in libs:
            errs = []
            f.rows = 0
            t0 = time.perf_counter()
            for i in range(rows_n):
                for s in range(seeds):
                    f.for_row(i)
                    phi = np.asarray(run(i, budget, 1000 * s + i), dtype=np.float64)
                    errs.append(np.abs(phi - exact[i]).max())
            secs[name][budget] = (time.perf_counter() - t0) / (rows_n * seeds)
            err[name][budget] = float(np.mean(errs))
            rows_used[name][budget] = f.rows / (rows_n * seeds)
        print(f"  budget {budget:5d}: " + "  ".join(f"{n.split(' (')[0]} {err[n][budget]:.4f}" for n, _ in libs),
              flush=True)

    print()
    print(f"### Mean max-abs error vs exact Shapley values ({args.workload}: 12 players)")
    print()
    print("| budget | " + " | ".join(n for n, _ in libs) + " |")
    print("|---:|" + "---:|" * len(libs))
    for b in budgets:
        print(f"| {b} | " + " | ".join(f"{err[n][b]:.4f}" for n, _ in libs) + " |")
    print()
    print("Model rows evaluated per explanation (counted) and seconds per explanation:")
    print()
    print("| budget | " + " | ".join(n for n, _ in libs) + " |")
    print("|---:|" + "---:|" * len(libs))
    for b in budgets:
        print(f"| {b} | " + " | ".join(f"{rows_used[n][b]:.0f} rows, {secs[n][b] * 1000:.0f} ms" for n, _ in libs)
              + " |")
    print()
    print("### Budget lumos kernel_shap needs to match each anchor's error at its largest budget")
    print()
    print("| anchor | anchor error at max budget | smallest lumos budget with error <= that | evaluations ratio "
          "(anchor rows / lumos rows) | log-log interpolated lumos budget |")
    print("|---|---:|---:|---:|---:|")
    top = budgets[-1]
    lum = "lumos kernel_shap"
    for name, _ in libs[1:]:
        goal = err[name][top]
        hit = next((b for b in budgets if err[lum][b] <= goal), None)
        if hit is None:
            print(f"| {name} | {goal:.4f} | not reached by {top} | < 1 | |")
            continue
        ratio = rows_used[name][top] / rows_used[lum][hit]
        # interpolate log(err) against log(budget) between the bracketing lumos budgets
        k = budgets.index(hit)
        interp = float(hit)
        if k > 0 and err[lum][budgets[k - 1]] > goal:
            b0, b1 = budgets[k - 1], hit
            e0, e1 = np.log(err[lum][b0]), np.log(err[lum][b1])
            w = (np.log(goal) - e0) / (e1 - e0)
            interp = float(np.exp(np.log(b0) + w * (np.log(b1) - np.log(b0))))
        elif k == 0:
            interp = float("nan")
        prefix = "<= " if k == 0 else ""
        interp_s = "below the smallest budget" if np.isnan(interp) else f"{interp:.0f} ({top / interp:.1f}x fewer)"
        print(f"| {name} | {goal:.4f} | {prefix}{hit} | {prefix.replace('<=', '>=')}{ratio:.1f}x | {interp_s} |")
    print()


if __name__ == "__main__":
    main()

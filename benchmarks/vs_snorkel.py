#!/usr/bin/env python
"""lumos.weak's label models beside snorkel 0.10's LabelModel and MajorityLabelVoter, on the same label
matrices, in one run and one process.

Matrices (every one with gold labels, never shown to the models):
- synthetic/independent: 10 binary LFs drawn at set accuracies (0.55..0.9) and coverages (0.1..0.8), 20,000 rows;
- synthetic/imbalanced: the same LFs, classes 80/20;
- synthetic/correlated: 3 good LFs (0.8) and one weak LF (0.6) with 4 exact copies;
- synthetic/sparse: 6 LFs of similar accuracy (0.7..0.75) and low coverage (0.05..0.15), where learning has
  little agreement to learn from;
- synthetic/3-class: 8 LFs over 3 classes;
- rotten_tomatoes: the >= 10 real LFs of benchmarks/weak_rt.py on the zoo's sentiment training split (read
  from the label matrix that script caches; run it first, or pass --no-rt).

Score: accuracy of the most probable class on the rows at least one LF votes on (the same rows for every model;
ties count 1/k, the expectation of breaking them at random), and for synthetic matrices the largest error of
the learned LF accuracies (snorkel: LabelModel.get_weights()). Fit time: CPU seconds of fit + predict_proba,
single-threaded on both sides (torch and BLAS limited to one thread), best of --repeats.

snorkel goes in the ``bench`` extra (it pulls tensorboard): pip install -c constraints.txt snorkel==0.10.0

Usage:  python benchmarks/vs_snorkel.py [--repeats 3] [--no-rt] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))


def synthetic_matrices() -> dict:
    from lumos.weak import synthetic

    acc = [0.9, 0.85, 0.8, 0.75, 0.7, 0.7, 0.65, 0.6, 0.6, 0.55]
    cov = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.3, 0.5]
    return {
        "synthetic/independent": synthetic(20000, acc, cov, seed=0),
        "synthetic/imbalanced": synthetic(20000, acc, cov, class_balance=[0.8, 0.2], seed=1),
        "synthetic/correlated": synthetic(20000, [0.8, 0.8, 0.8, 0.6], [0.5, 0.5, 0.5, 0.9], copies={3: 4}, seed=2),
        "synthetic/sparse": synthetic(20000, [0.75, 0.7, 0.72, 0.75, 0.7, 0.73], [0.05, 0.1, 0.15, 0.1, 0.05, 0.12],
                                      seed=3),
        "synthetic/3-class": synthetic(20000, [0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.6, 0.55],
                                       [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.3, 0.5], n_classes=3, seed=4),
    }


def expected_accuracy(probs: np.ndarray, y: np.ndarray, rows: np.ndarray) -> float:
    p = probs[rows]
    top = np.isclose(p, p.max(1, keepdims=True), atol=1e-9)
    return float(np.mean(top[np.arange(len(p)), y[rows]] / top.sum(1)))


def lumos_models(n_classes: int, dev_balance: np.ndarray | None) -> dict:
    """Display name -> (registered label model, its settings)."""
    from lumos import registry

    models = {f"lumos {name}": (name, {}) for name in registry.names("label_model")
              if name != "triplet" or n_classes == 2}
    if dev_balance is not None:
        models["lumos matrix_completion (dev balance)"] = ("matrix_completion", {"class_balance": dev_balance})
    return models


def run_lumos(method: str, settings: dict, L: np.ndarray, K: int):
    from lumos.weak import label

    result = label(L, method=method, n_classes=K, **settings)
    return result.probs, result.accuracies


def run_snorkel_label_model(L: np.ndarray, K: int, balance=None):
    from snorkel.labeling.model import LabelModel

    model = LabelModel(cardinality=K, verbose=False)
    model.fit(L, n_epochs=500, seed=0, progress_bar=False,
              **({"class_balance": list(balance)} if balance is not None else {}))
    return model.predict_proba(L), model.get_weights()


def run_snorkel_majority(L: np.ndarray, K: int):
    from snorkel.labeling.model import MajorityLabelVoter

    return MajorityLabelVoter(cardinality=K).predict_proba(L), None


def bench_matrix(name: str, L: np.ndarray, y: np.ndarray, K: int, true_acc: np.ndarray | None,
                 dev_balance: np.ndarray | None, repeats: int) -> list[dict]:
    rows = np.flatnonzero((L >= 0).any(1))
    runners = {k: (lambda m=m, kw=kw: run_lumos(m, kw, L, K)) for k, (m, kw) in lumos_models(K, dev_balance).items()}
    runners["snorkel LabelModel"] = lambda: run_snorkel_label_model(L, K)
    if dev_balance is not None:
        runners["snorkel LabelModel (dev balance)"] = lambda: run_snorkel_label_model(L, K, dev_balance)
    runners["snorkel MajorityLabelVoter"] = lambda: run_snorkel_majority(L, K)
    out = []
    for label, run in runners.items():
        best = np.inf
        for _ in range(repeats):
            start = time.process_time()
            probs, acc = run()
            best = min(best, time.process_time() - start)
        err = float(np.max(np.abs(np.asarray(acc) - true_acc))) if (true_acc is not None and acc is not None) else None
        out.append({"matrix": name, "model": label, "accuracy": expected_accuracy(probs, y, rows),
                    "coverage": len(rows) / len(L), "lf_accuracy_error": err, "cpu_seconds": best})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-rt", action="store_true", help="skip the Rotten Tomatoes matrix")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    records = []
    with threadpool_limits(1):
        for name, task in synthetic_matrices().items():
            dev_balance = np.bincount(task.y[:500], minlength=task.matrix.n_classes) / 500
            records += bench_matrix(name, task.matrix.L, task.y, task.matrix.n_classes, task.accuracies,
                                    dev_balance, args.repeats)
            print(f"done {name}", file=sys.stderr)
        if not args.no_rt:
            from weak_rt import cached_train_matrix

            matrix, y, dev_balance = cached_train_matrix()
            records += bench_matrix("rotten_tomatoes", matrix.L, y, 2, None, dev_balance, args.repeats)
    frame = pd.DataFrame(records)
    report(frame)
    if args.json:
        Path(args.json).write_text(json.dumps(records, indent=1))


def report(frame: pd.DataFrame) -> None:
    for name, part in frame.groupby("matrix", sort=False):
        print(f"\n### {name} (coverage {part['coverage'].iloc[0]:.3f})\n")
        print("| model | accuracy | LF accuracy error | CPU s |")
        print("|---|---|---|---|")
        for r in part.itertuples():
            err = "-" if r.lf_accuracy_error is None or pd.isna(r.lf_accuracy_error) else f"{r.lf_accuracy_error:.3f}"
            print(f"| {r.model} | {r.accuracy:.4f} | {err} | {r.cpu_seconds:.3f} |")
        ours = part[part["model"].str.startswith("lumos") & ~part["model"].str.contains("dev balance")]
        best = ours.loc[ours["accuracy"].idxmax()]
        snorkel = part[part["model"] == "snorkel LabelModel"].iloc[0]
        mv = part[part["model"] == "lumos majority"].iloc[0]
        ds = part[part["model"] == "lumos dawid_skene"].iloc[0]
        print(f"\nbest lumos model: {best['model']} {best['accuracy']:.4f} vs snorkel LabelModel "
              f"{snorkel['accuracy']:.4f} ({best['accuracy'] - snorkel['accuracy']:+.4f}); fit CPU time ratio "
              f"snorkel / lumos = {snorkel['cpu_seconds'] / max(best['cpu_seconds'], 1e-6):.1f}x. "
              f"dawid_skene (one fixed choice): {ds['accuracy'] - snorkel['accuracy']:+.4f}, "
              f"{snorkel['cpu_seconds'] / max(ds['cpu_seconds'], 1e-6):.1f}x faster. Majority vote "
              f"{'matches or beats' if mv['accuracy'] >= best['accuracy'] - 1e-4 else 'loses to'} the best "
              f"({mv['accuracy']:.4f})")


if __name__ == "__main__":
    main()

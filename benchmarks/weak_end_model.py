#!/usr/bin/env python
"""What else than the LFs moves the weak-label end model on Rotten Tomatoes: the label model (weighted
majority and stacking fitted on the gold dev set among them), a confidence threshold on its posterior, hard or
soft labels, and leaving out the explanation-derived or the view LFs.

Reads the training label matrix ``benchmarks/weak_rt.py`` cached (run it first) and trains the sentiment/tfidf
recipe's model (its TfidfConfig: TF-IDF 1-2 grams, min_df 2, sublinear tf; logistic regression, C = 4; soft
labels as each row once per class, weighted by its probability) for every combination, scoring on the test
split. The vectorizer is fitted once on all training texts (no labels needed), so the gold row reproduces the
recipe's test accuracy; every other row differs only in its labels.

Self-training (``--self-train K``): after the table, the end model trained on each label model's soft labels
relabels every training row with its own prediction and is retrained, K rounds (the classic remedy when weak
labels are noisy: the end model generalises past the LFs).

Usage:  python benchmarks/weak_end_model.py [--thresholds 0,0.6,0.7,0.8,0.9] [--self-train 4]
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

METHODS = ["majority", "weighted_majority", "weighted_majority (dev)", "stacked (dev)", "triplet", "dawid_skene",
           "matrix_completion"]


def main() -> None:
    from weak_rt import cached_dev_matrix, cached_train_matrix

    from lumos import weak, zoo
    from lumos.zoo.text_recipes import TfidfConfig

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--thresholds", default="0,0.6,0.7,0.8,0.9", help="posterior thresholds (kept rows)")
    parser.add_argument("--self-train", type=int, default=4, help="self-training rounds (0: none)")
    args = parser.parse_args()
    thresholds = [float(t) for t in args.thresholds.split(",")]

    L, gold, _ = cached_train_matrix()
    L_dev, y_dev = cached_dev_matrix()

    def fit_labels(matrix, cols: list[int], method: str):
        """The label model ``method`` on ``matrix`` (LF columns ``cols`` of the cached one), rows without a vote
        dropped; "(dev)": fitted on the gold dev set (weighted majority: weights from its LF accuracies)."""
        if method.endswith(" (dev)"):
            return weak.label(matrix, method=method.split()[0], abstain="drop", dev=(L_dev[:, cols], y_dev))
        return weak.label(matrix, method=method, abstain="drop", seed=0)

    splits = zoo.get("sentiment/tfidf").dataset().copy_splits()
    cfg = TfidfConfig()
    vectorizer = TfidfVectorizer(ngram_range=(1, cfg.ngram_max), min_df=cfg.min_df, sublinear_tf=True)
    x = vectorizer.fit_transform(splits["train"]["text"].tolist())
    x_test, y_test = vectorizer.transform(splits["test"]["text"].tolist()), splits["test"]["label"].to_numpy()

    def fit(rows: np.ndarray, probs: np.ndarray) -> LogisticRegression:
        """Train on ``rows`` with (R, 2) label probabilities (each row once per class, weighted)."""
        index, labels = np.tile(rows, 2), np.repeat([0, 1], len(rows))
        weights = np.concatenate([probs[:, 0], probs[:, 1]])
        used = weights > 0
        return LogisticRegression(C=cfg.C, max_iter=2000).fit(x[index[used]], labels[used],
                                                              sample_weight=weights[used])

    def test_accuracy(rows: np.ndarray, probs: np.ndarray) -> float:
        return float((fit(rows, probs).predict(x_test) == y_test).mean())

    everything = np.arange(len(gold))
    print(f"gold labels: test accuracy {test_accuracy(everything, np.eye(2)[gold]):.4f} ({len(gold):,} rows)\n")
    print("| LFs | label model | posterior >= | kept rows | label accuracy | soft labels | hard labels |")
    print("|---|---|---:|---:|---:|---:|---:|")
    subsets = {"all": list(range(len(L.lf_names))),
               "without explained": [i for i, n in enumerate(L.lf_names) if not n.startswith("explained")],
               "without views": [i for i, n in enumerate(L.lf_names) if not n.startswith("view_")]}
    for subset, cols in subsets.items():
        matrix = weak.LabelMatrix(L.L[:, cols], [L.lf_names[i] for i in cols], L.classes)
        for method in METHODS:
            labels = fit_labels(matrix, cols, method)
            kept = np.flatnonzero(labels.keep)
            probs = labels.probs[kept]
            for t in thresholds:
                sure = probs.max(1) >= t
                rows, p = kept[sure], probs[sure]
                label_accuracy = (p.argmax(1) == gold[rows]).mean()
                print(f"| {subset} | {method} | {t:g} | {len(rows):,} | {label_accuracy:.3f} | "
                      f"{test_accuracy(rows, p):.4f} | {test_accuracy(rows, np.eye(2)[p.argmax(1)]):.4f} |", flush=True)
    if args.self_train:
        print(f"\n| label model | soft labels | " + " | ".join(f"self-training round {k + 1}"
                                                        for k in range(args.self_train)) + " |")
        print("|---|---:|" + "---:|" * args.self_train)
        for method in METHODS:
            labels = fit_labels(L, list(range(len(L.lf_names))), method)
            kept = np.flatnonzero(labels.keep)
            model, scores = fit(kept, labels.probs[kept]), []
            first = float((model.predict(x_test) == y_test).mean())
            for _ in range(args.self_train):
                model = fit(everything, np.eye(2)[model.predict(x)])
                scores.append(float((model.predict(x_test) == y_test).mean()))
            print(f"| {method} | {first:.4f} | " + " | ".join(f"{a:.4f}" for a in scores) + " |", flush=True)


if __name__ == "__main__":
    main()

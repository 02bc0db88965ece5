"""tabular/{adult,german,compas}/{gbm,logreg,mlp} and own/table/{gbm,logreg,mlp}: one preprocessing pipeline,
three classifier heads (any number of classes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, Tuple

import numpy as np

from ..models import Model
from .checkpoints import CheckpointRecorder, restore
from .datasets import Dataset
from .heads import HEADS, LinearHead, MLPHead, TreeHead, mlp
from .preprocess import TablePreprocessor
from .recipe import Artifact, Builder, Trainer, prefixed, unprefixed
from .table_model import TableModel
from .training import (Config, DynamicsRecorder, EpochTimer, FitOptions, TrainingRows, epoch_callbacks, expand_soft,
                       fit_classifier, seeded, split_metrics, stopper_for, training_rows)

Validation = Optional[Tuple[np.ndarray, np.ndarray]]  # encoded validation rows (N, D) and labels (N,), or None


@dataclass(frozen=True)
class GBMConfig(Config):
    """``patience``: stop boosting when the loss on the validation split has not improved for this many rounds
    (None: all ``max_iter`` rounds)."""

    max_iter: int = 200
    learning_rate: float = 0.1
    max_leaf_nodes: int = 31
    patience: int | None = None
    added_later = ("patience",)


@dataclass(frozen=True)
class LogRegConfig(Config):
    C: float = 1.0


@dataclass(frozen=True)
class MLPConfig(Config):
    """``patience``: early stopping on the validation loss (None: every epoch); ``keep_checkpoints``: TracIn
    checkpoints recorded, evenly spaced over the epochs."""

    epochs: int = 30
    hidden: int = 64
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    patience: int | None = None
    keep_checkpoints: int = 10
    added_later = ("patience", "keep_checkpoints")


def _weighted(x: np.ndarray, y: np.ndarray, rows: TrainingRows) -> tuple[np.ndarray, np.ndarray, dict]:
    """(x, y, fit keywords) for a scikit-learn estimator: the rows as they are when no weights or probabilistic
    labels were given, else expanded into weighted rows per class (``expand_soft``)."""
    if rows.sample_weight is None and rows.label_probs is None:
        return x, y, {}
    index, labels, weights = expand_soft(len(y), y, rows.sample_weight, rows.label_probs)
    return x[index], labels, {"sample_weight": weights}


def _gbm(x: np.ndarray, y: np.ndarray, cfg: GBMConfig, desc: str, progress: bool, rows: TrainingRows,
         dynamics: DynamicsRecorder | None, classes: int, validation: Validation) -> TreeHead:
    """Boosting stages stand for epochs in the training dynamics (at most 20, evenly spaced). With ``patience``
    and validation rows, boosting stops early on the validation loss (scikit-learn's own early stopping)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    stop = cfg.patience is not None and validation is not None and len(validation[1]) > 0
    hgb = HistGradientBoostingClassifier(max_iter=cfg.max_iter, learning_rate=cfg.learning_rate,
                                         max_leaf_nodes=cfg.max_leaf_nodes, early_stopping=stop,
                                         n_iter_no_change=cfg.patience or 10, random_state=cfg.seed)
    xf, yf, kw = _weighted(x.astype(np.float64), y, rows)
    if stop:
        kw.update(X_val=validation[0].astype(np.float64), y_val=validation[1])  # type: ignore[index]
    hgb.fit(xf, yf, **kw)
    if dynamics is not None:
        every = max(1, hgb.n_iter_ // 20)
        for stage, probs in enumerate(hgb.staged_predict_proba(x.astype(np.float64)), start=1):
            if stage % every == 0 or stage == hgb.n_iter_:
                dynamics.add_epoch(probs)
    head = TreeHead.from_sklearn(hgb)
    if stop:
        head.record = {"rounds": int(hgb.n_iter_), "stopped_early": bool(hgb.n_iter_ < cfg.max_iter),
                       "patience": cfg.patience}
    return head


def _logreg(x: np.ndarray, y: np.ndarray, cfg: LogRegConfig, desc: str, progress: bool, rows: TrainingRows,
            dynamics: DynamicsRecorder | None, classes: int, validation: Validation) -> LinearHead:
    from sklearn.linear_model import LogisticRegression

    xf, yf, kw = _weighted(x, y, rows)
    return LinearHead.from_sklearn(LogisticRegression(C=cfg.C, max_iter=5000).fit(xf, yf, **kw))


def _mlp(x: np.ndarray, y: np.ndarray, cfg: MLPConfig, desc: str, progress: bool, rows: TrainingRows,
         dynamics: DynamicsRecorder | None, classes: int, validation: Validation) -> MLPHead:
    recorder = CheckpointRecorder(cfg.epochs, keep=cfg.keep_checkpoints)
    with seeded(cfg.seed):
        net = mlp(x.shape[1], cfg.hidden, classes)
        stopper = stopper_for(net, validation, cfg.patience)  # type: ignore[arg-type]
        timer = EpochTimer()
        fit_classifier(net, x, y, epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                       weight_decay=cfg.weight_decay, seed=cfg.seed, desc=desc, progress=progress,
                       on_epoch=epoch_callbacks(recorder, stopper, timer),
                       sample_weight=rows.sample_weight, label_probs=rows.label_probs, dynamics=dynamics)
    head = MLPHead(net, recorder)
    head.record = timer.record()
    if stopper is not None:
        stopper.restore(net)
        recorder.stop_at(stopper.best_epoch, net)
        head.record.update(stopper.record())
    return head


def recipe(fit: Callable[..., Any]) -> tuple[Trainer, Builder]:
    """(trainer, builder) for a head fitted by ``fit(x, y, cfg, desc, progress, rows, dynamics, classes,
    validation)`` on encoded rows."""

    def train(data: Dataset, cfg: Config, desc: str, progress: bool, options: FitOptions | None = None
              ) -> Artifact:
        rows = training_rows(data.splits["train"], cfg, options)
        train_rows = rows.frame
        dynamics = DynamicsRecorder(len(train_rows)) if options is not None and options.dynamics else None
        pre = TablePreprocessor.fit(train_rows, data.schema)  # type: ignore[arg-type]
        val = data.splits["validation"]
        validation = (pre.transform(val), val["label"].to_numpy()) if len(val) else None
        head = fit(pre.transform(train_rows), train_rows["label"].to_numpy(), cfg, desc, progress, rows, dynamics,
                   len(data.labels), validation)
        predict = lambda frame: head.probs(pre.transform(frame))  # noqa: E731
        recorder = getattr(head, "recorder", None)
        return Artifact({**prefixed("pre.", pre.arrays()), **prefixed("head.", head.arrays()),
                         **(recorder.arrays() if recorder else {}),
                         **(dynamics.arrays(rows.index) if dynamics else {})},
                        {"preprocessor": pre.state(), "head": {"kind": head.kind, **head.state()},
                         **({"checkpoints": recorder.state()} if recorder else {})},
                        split_metrics(predict, data.splits, cfg.eval_size, cfg.seed),
                        getattr(head, "record", {}))

    def build(artifact: Artifact | None, data: Dataset, cfg: Config) -> Model:
        assert artifact is not None and data.schema is not None
        pre = TablePreprocessor.restore(unprefixed("pre.", artifact.arrays), artifact.state["preprocessor"])
        head_state = artifact.state["head"]
        head = HEADS[head_state["kind"]].restore(unprefixed("head.", artifact.arrays), head_state)
        model = TableModel(data.schema, pre, head, labels=data.labels)
        model.training_checkpoints = restore(artifact.arrays, artifact.state.get("checkpoints"))
        return model

    return train, build


HEAD_RECIPES: dict[str, tuple[Callable[..., Any], Config, str]] = {
    "gbm": (_gbm, GBMConfig(), "gradient-boosted trees (scikit-learn's HistGradientBoosting, 200 rounds)"),
    "logreg": (_logreg, LogRegConfig(), "logistic regression (L2, C=1)"),
    "mlp": (_mlp, MLPConfig(), "torch MLP, two hidden layers of 64"),
}

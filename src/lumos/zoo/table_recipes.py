"""tabular/{adult,german,compas}/{gbm,logreg,mlp}: one preprocessing pipeline, three classifier heads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..models import Model
from .checkpoints import CheckpointRecorder, restore
from .datasets import Dataset
from .heads import HEADS, LinearHead, MLPHead, TreeHead, mlp
from .preprocess import TablePreprocessor
from .recipe import Artifact, Builder, Trainer, prefixed, unprefixed
from .table_model import TableModel
from .training import Config, fit_classifier, seeded, split_metrics, subset


@dataclass(frozen=True)
class GBMConfig(Config):
    max_iter: int = 200
    learning_rate: float = 0.1
    max_leaf_nodes: int = 31


@dataclass(frozen=True)
class LogRegConfig(Config):
    C: float = 1.0


@dataclass(frozen=True)
class MLPConfig(Config):
    epochs: int = 30
    hidden: int = 64
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4


def _gbm(x: np.ndarray, y: np.ndarray, cfg: GBMConfig, desc: str, progress: bool) -> TreeHead:
    from sklearn.ensemble import HistGradientBoostingClassifier

    hgb = HistGradientBoostingClassifier(max_iter=cfg.max_iter, learning_rate=cfg.learning_rate,
                                         max_leaf_nodes=cfg.max_leaf_nodes, early_stopping=False,
                                         random_state=cfg.seed)
    return TreeHead.from_sklearn(hgb.fit(x.astype(np.float64), y))


def _logreg(x: np.ndarray, y: np.ndarray, cfg: LogRegConfig, desc: str, progress: bool) -> LinearHead:
    from sklearn.linear_model import LogisticRegression

    return LinearHead.from_sklearn(LogisticRegression(C=cfg.C, max_iter=5000).fit(x, y))


def _mlp(x: np.ndarray, y: np.ndarray, cfg: MLPConfig, desc: str, progress: bool) -> MLPHead:
    recorder = CheckpointRecorder(cfg.epochs)
    with seeded(cfg.seed):
        net = mlp(x.shape[1], cfg.hidden)
        fit_classifier(net, x, y, epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                       weight_decay=cfg.weight_decay, seed=cfg.seed, desc=desc, progress=progress, on_epoch=recorder)
    return MLPHead(net, recorder)


def recipe(fit: Callable[..., Any]) -> tuple[Trainer, Builder]:
    """(trainer, builder) for a head fitted by ``fit(x, y, cfg, desc, progress)`` on encoded rows."""

    def train(data: Dataset, cfg: Config, desc: str, progress: bool) -> Artifact:
        train_rows = subset(data.splits["train"], cfg.train_size, cfg.seed)
        pre = TablePreprocessor.fit(train_rows, data.schema)  # type: ignore[arg-type]
        head = fit(pre.transform(train_rows), train_rows["label"].to_numpy(), cfg, desc, progress)
        predict = lambda frame: head.probs(pre.transform(frame))  # noqa: E731
        recorder = getattr(head, "recorder", None)
        return Artifact({**prefixed("pre.", pre.arrays()), **prefixed("head.", head.arrays()),
                         **(recorder.arrays() if recorder else {})},
                        {"preprocessor": pre.state(), "head": {"kind": head.kind, **head.state()},
                         **({"checkpoints": recorder.state()} if recorder else {})},
                        split_metrics(predict, data.splits, cfg.eval_size, cfg.seed))

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

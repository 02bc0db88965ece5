"""own/image/efficientnet_lite0: transfer learning from the packaged EfficientNet-Lite0 (ImageNet weights).

The model takes (N, 3, S, S) images in [0, 1] of any side S: inside, they are resized to ``resolution``
(bilinear), normalised as EfficientNet-Lite expects, and classified by the backbone with a new head for the
data's K classes. Two ways to train it:

- ``finetune="head"``: the backbone is frozen and only the head (dropout + a 1280 -> K linear layer) learns;
- ``finetune="last"``: the last ``blocks`` MBConv blocks, the head convolution and the head learn.

The frozen part runs once over every image (a copy with its batch norms folded into the convolutions, in
channels-last layout: 2 to 3 times faster on a CPU than the plain network); the trained part then learns on
the stored activations, unless augmentation is asked for, in which case the frozen part runs on each augmented
batch. Batch-norm statistics stay those of ImageNet. TracIn checkpoints hold the trained entries only (the
rest did not change); early stopping watches the validation loss.
"""

from __future__ import annotations

import copy
import math
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..errors import InputError
from ..models import Model, wrap
from .augment import chain, named
from .checkpoints import CheckpointRecorder, restore, weights_only
from .datasets import Dataset
from .image_recipes import LITE_MEAN, LITE_STD, Normalize, images, lite0_network
from .recipe import Artifact
from .training import (Config, EpochTimer, FitOptions, epoch_callbacks, fit_classifier, metrics, progress_bar,
                       seeded, stopper_for, subset_index, training_rows)

FINETUNE = ("head", "last")


@dataclass(frozen=True)
class TransferConfig(Config):
    """``finetune``: "head" (frozen backbone) or "last" (the last ``blocks`` blocks too). ``resolution``: the
    side the network sees (its ImageNet weights were trained at 224; smaller is faster). ``augment``: names
    from ``augment.AUGMENTATIONS``. ``patience``: early stopping on the validation loss (None: every epoch)."""

    epochs: int = 20
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    finetune: str = "head"
    blocks: int = 2
    resolution: int = 224
    augment: str = ""
    patience: int | None = 3
    keep_checkpoints: int = 10


class Resize(nn.Module):
    """(N, C, H, W) -> (N, C, size, size), bilinear (antialiased when shrinking); a no-op at that size."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] == (self.size, self.size):
            return x
        shrink = x.shape[-1] > self.size or x.shape[-2] > self.size
        return nn.functional.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False,
                                         antialias=shrink)


def network(classes: int, resolution: int, seed: int, pretrained: bool) -> nn.Sequential:
    """resize -> normalize -> EfficientNet-Lite0 with a new (seeded) head of ``classes`` outputs; with the
    packaged ImageNet weights when ``pretrained`` (otherwise they are loaded from a cached artifact)."""
    with seeded(seed):
        net = lite0_network(classes, resolution, pretrained)
    return nn.Sequential(OrderedDict(resize=Resize(resolution), normalize=Normalize(LITE_MEAN, LITE_STD), net=net))


class Trunk(nn.Module):
    """The frozen part: normalize, stem and blocks[:start]; with ``start`` None, every block, the head
    convolution and the pooling too, giving (N, 1280) features. Takes images already at the resolution."""

    def __init__(self, normalize: nn.Module, eff: nn.Module, start: int | None):
        super().__init__()
        self.normalize, self.eff, self.start = normalize, eff, start

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e = self.eff
        x = e._swish(e._bn0(e._conv_stem(self.normalize(x))))
        for block in e._blocks[:self.start] if self.start is not None else e._blocks:
            x = block(x)
        if self.start is None:
            x = e._avg_pooling(e._swish(e._bn1(e._conv_head(x)))).flatten(1)
        return x


class Tail(nn.Module):
    """The trained part, on the trunk's output: blocks[start:] (with EfficientNet's drop-connect), the head
    convolution and pooling, then dropout and the linear head; with ``start`` None only dropout and the head.
    Batch norms stay in eval mode while it trains."""

    def __init__(self, eff: nn.Module, start: int | None):
        super().__init__()
        self.eff, self.start = eff, start

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        e = self.eff
        if self.start is not None:
            n = len(e._blocks)
            for idx in range(self.start, n):
                rate = e._global_params.drop_connect_rate
                h = e._blocks[idx](h, drop_connect_rate=rate * idx / n if rate else rate)
            h = e._avg_pooling(e._swish(e._bn1(e._conv_head(h)))).flatten(1)
        return e._fc(e._dropout(h))

    def train(self, mode: bool = True) -> "Tail":
        super().train(mode)
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
        return self


class Frozen(nn.Module):
    """resize -> the (fast, frozen) trunk without gradients -> the tail: what trains when images are augmented."""

    def __init__(self, resize: nn.Module, trunk: nn.Module, tail: Tail):
        super().__init__()
        self.resize, self.trunk, self.tail = resize, trunk, tail

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            h = self.trunk(self.resize(x))
        return self.tail(h)

    def train(self, mode: bool = True) -> "Frozen":
        super().train(mode)
        self.trunk.eval()
        return self


def fast_trunk(trunk: Trunk, resolution: int) -> nn.Module:
    """A copy of ``trunk`` for inference with batch norms folded into the convolutions and channels-last
    layout, when it computes the same features (checked on two images); else the trunk itself."""
    try:
        from torch.fx.experimental.optimization import fuse

        fused = fuse(copy.deepcopy(trunk).eval()).to(memory_format=torch.channels_last)
        probe = torch.rand(2, 3, resolution, resolution, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            same = torch.allclose(fused(probe.contiguous(memory_format=torch.channels_last)), trunk(probe),
                                  rtol=1e-3, atol=1e-4)
    except Exception:  # noqa: BLE001  (tracing is an optimisation; the plain trunk is always right)
        return trunk
    return fused if same else trunk


def run_trunk(resize: nn.Module, trunk: nn.Module, frame, batch_size: int, bar) -> np.ndarray:
    """A frame's (3, S, S) images -> the trunk's (N, ...) float32 outputs, ``batch_size`` images at a time (the
    images are stacked one batch at a time, so a large data set never sits in memory twice)."""
    out = []
    with torch.no_grad():
        for lo in range(0, len(frame), batch_size):
            xb = resize(torch.from_numpy(images(frame.iloc[lo:lo + batch_size])))
            out.append(trunk(xb.contiguous(memory_format=torch.channels_last)).contiguous().numpy())
            bar.update(len(xb))
    return np.concatenate(out) if out else np.zeros((0,), np.float32)


def trained_modules(eff: nn.Module, start: int | None) -> list[nn.Module]:
    """The parts of EfficientNet that learn: the linear head, and from block ``start`` on (when not None) the
    blocks and the head convolution with its batch norm's scale and shift."""
    parts = [eff._fc]
    if start is not None:
        parts += [*eff._blocks[start:], eff._conv_head, eff._bn1]
    return parts


def _check(data: Dataset, cfg: TransferConfig) -> int | None:
    """The first trained block (None: the head only), after checking the settings and the images."""
    if cfg.finetune not in FINETUNE:
        raise InputError(f"finetune must be one of {', '.join(FINETUNE)}; got {cfg.finetune!r}.")
    channels = data.splits["train"]["image"].iloc[0].shape[0]
    if channels != 3:
        raise InputError(f"EfficientNet-Lite0 takes RGB images (3 channels); got {channels}. lumos.train converts "
                         "grey and RGBA images to RGB for it; pass (3, S, S) arrays when calling train_on.")
    if cfg.finetune == "head":
        return None
    if not 1 <= cfg.blocks <= 16:
        raise InputError(f"blocks must lie in 1..16 (EfficientNet-Lite0 has 16 blocks); got {cfg.blocks}.")
    return 16 - cfg.blocks


def train_transfer(data: Dataset, cfg: TransferConfig, desc: str, progress: bool,
                   options: FitOptions | None = None) -> Artifact:
    start = _check(data, cfg)
    rows = training_rows(data.splits["train"], cfg, options)
    train = rows.frame
    net = network(len(data.labels), cfg.resolution, cfg.seed, pretrained=True)
    eff = net.net
    tail = Tail(eff, start)
    trained = {id(p) for m in trained_modules(eff, start) for p in m.parameters()}
    for p in net.parameters():
        p.requires_grad_(id(p) in trained)
    names = {n for n, p in net.named_parameters() if p.requires_grad}
    trunk = fast_trunk(Trunk(net.normalize, eff, start).eval(), cfg.resolution)
    augment = chain(named(cfg.augment, cfg.resolution))
    evals = {s: data.splits[s].iloc[subset_index(len(data.splits[s]), cfg.eval_size, cfg.seed)]
             for s in ("validation", "test")}
    todo = sum(len(f) for f in evals.values()) + (0 if augment else len(train))
    with progress_bar(todo, f"{desc}: frozen EfficientNet-Lite0 features", progress) as bar:
        bar.unit = "image"
        h = {s: run_trunk(net.resize, trunk, f, 32, bar) for s, f in evals.items()}
        x_train = images(train) if augment else run_trunk(net.resize, trunk, train, 32, bar)
    y = {s: f["label"].to_numpy() for s, f in evals.items()}
    recorder = CheckpointRecorder(cfg.epochs, keep=cfg.keep_checkpoints,
                                  snapshot=lambda _: {k: v for k, v in net.state_dict().items() if k in names})
    module: nn.Module = Frozen(net.resize, trunk, tail) if augment else tail
    with seeded(cfg.seed):
        stopper = stopper_for(module, (h["validation"], y["validation"]), cfg.patience, forward=tail)
        timer = EpochTimer()
        fit_classifier(module, x_train, train["label"].to_numpy(), epochs=cfg.epochs,
                       batch_size=cfg.batch_size, lr=cfg.lr, weight_decay=cfg.weight_decay, seed=cfg.seed,
                       desc=desc, progress=progress, augment=augment,
                       on_epoch=epoch_callbacks(recorder, stopper, timer),
                       sample_weight=rows.sample_weight, label_probs=rows.label_probs)
    if stopper is not None:
        stopper.restore(module)
        recorder.stop_at(stopper.best_epoch, module)
    tail.eval()
    scores = {}
    with torch.no_grad():
        for s in ("validation", "test"):
            if len(y[s]):
                logits = torch.cat([tail(torch.from_numpy(c)) for c in np.array_split(h[s], math.ceil(len(h[s]) / 256))])
                scores[s] = metrics(y[s], torch.softmax(logits.double(), 1).numpy())
    arrays = {k: v.detach().cpu().numpy() for k, v in net.state_dict().items()}
    record = {"trained_parameters": int(sum(p.numel() for p in net.parameters() if p.requires_grad)),
              **timer.record(), **(stopper.record() if stopper is not None else {})}
    return Artifact({**arrays, **recorder.arrays()}, {"checkpoints": recorder.state()}, scores, record)


def build_transfer(artifact: Artifact | None, data: Dataset, cfg: TransferConfig) -> Model:
    assert artifact is not None
    net = network(len(data.labels), cfg.resolution, cfg.seed, pretrained=False)
    net.load_state_dict({k: torch.from_numpy(v) for k, v in weights_only(artifact.arrays).items()})
    model = wrap(net.eval(), labels=list(data.labels))
    model.training_checkpoints = restore(artifact.arrays, artifact.state.get("checkpoints"), base=net.state_dict())
    return model

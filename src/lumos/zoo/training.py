"""Shared training pieces: the common config fields, seeding without touching global state, subsets, a torch
classifier loop with a progress bar, and the metrics every zoo model reports."""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import pandas as pd
import torch
from torch import nn


@dataclass(frozen=True)
class Config:
    """Fields every recipe takes. ``train_size``/``eval_size``: at most this many training / validation and test
    rows (a seeded sample; None: all), for quick versions. ``seed``: initialisation and shuffling."""

    seed: int = 0
    train_size: int | None = None
    eval_size: int | None = None


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """torch's global generator seeded inside, and restored to the caller's state afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def subset(frame: pd.DataFrame, n: int | None, seed: int) -> pd.DataFrame:
    """At most n rows, a seeded sample kept in the original order."""
    if n is None or n >= len(frame):
        return frame
    keep = np.sort(np.random.default_rng(seed).choice(len(frame), size=n, replace=False))
    return frame.iloc[keep].reset_index(drop=True)


def progress_bar(total: int, desc: str, enabled: bool):
    """A tqdm bar on stderr (a no-op one when disabled)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="batch", disable=not enabled, dynamic_ncols=True, leave=True)


def metrics(y: np.ndarray, probs: np.ndarray) -> dict[str, float]:
    """y (N,) ints, probs (N, K) -> accuracy, and ROC AUC when K == 2."""
    from sklearn.metrics import roc_auc_score

    out = {"accuracy": float(np.mean(probs.argmax(1) == y)), "n": int(len(y))}
    if probs.shape[1] == 2 and len(np.unique(y)) == 2:
        out["auc"] = float(roc_auc_score(y, probs[:, 1]))
    return out


def split_metrics(predict: Callable[[pd.DataFrame], np.ndarray], splits: dict[str, pd.DataFrame],
                  eval_size: int | None, seed: int) -> dict[str, dict[str, float]]:
    """predict(frame) -> (N, K) probabilities; metrics on (a sample of) validation and test."""
    out = {}
    for name in ("validation", "test"):
        frame = subset(splits[name], eval_size, seed)
        out[name] = metrics(frame["label"].to_numpy(), predict(frame))
    return out


def fit_classifier(module: nn.Module, x: np.ndarray, y: np.ndarray, *, epochs: int, batch_size: int, lr: float,
                   weight_decay: float, seed: int, desc: str, progress: bool,
                   augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
                   on_epoch: Callable[[nn.Module, float], None] | None = None) -> None:
    """Train ``module`` (inputs x (N, ...) float32 -> logits) with cross-entropy, AdamW and a linear decay of
    the learning rate to zero; shuffling and augmentation from ``seed``. Leaves the module in eval mode.
    ``on_epoch(module, mean learning rate of the epoch)`` after every epoch (e.g. TracIn checkpoints); it is
    not part of the recipe's settings, so cached models are unaffected."""
    xt, yt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), torch.from_numpy(y.astype(np.int64))
    steps = epochs * math.ceil(len(xt) / batch_size)
    optimiser = torch.optim.AdamW(module.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: 1.0 - s / steps)
    gen = torch.Generator().manual_seed(seed)
    module.train()
    with progress_bar(steps, desc, progress) as bar:
        for _ in range(epochs):
            rates = []
            for idx in torch.randperm(len(xt), generator=gen).split(batch_size):
                xb = xt[idx] if augment is None else augment(xt[idx], gen)
                loss = nn.functional.cross_entropy(module(xb), yt[idx])
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                rates.append(optimiser.param_groups[0]["lr"])
                optimiser.step()
                schedule.step()
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
            if on_epoch is not None:
                on_epoch(module, float(np.mean(rates)))
    module.eval()


def predict_probs(module: nn.Module, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """(N, ...) float32 -> (N, K) float64 softmax probabilities, in eval mode without gradients."""
    module.eval()
    with torch.inference_mode():
        out = [torch.softmax(module(torch.from_numpy(np.ascontiguousarray(c, dtype=np.float32))).double(), 1)
               for c in np.array_split(x, max(1, math.ceil(len(x) / batch_size)))]
    return torch.cat(out).numpy()

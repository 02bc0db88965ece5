"""Shared training pieces: the common config fields, seeding without touching global state, subsets, a torch
classifier loop with a progress bar, and the metrics every zoo model reports."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterator

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

    # settings a recipe gained after its models were first cached: left out of the cache key at their default,
    # so models cached before keep their keys (see ``config_key``)
    added_later: ClassVar[tuple[str, ...]] = ()


def config_key(cfg: Config) -> dict[str, Any]:
    """The settings that name a cache entry: every field of ``cfg``, except an ``added_later`` one that still has
    its default value (it changes nothing, so the entry cached before it existed is the same model)."""
    defaults = {f.name: f.default for f in dataclasses.fields(cfg)}
    return {k: v for k, v in dataclasses.asdict(cfg).items()
            if not (k in cfg.added_later and v == defaults[k])}


@dataclass(frozen=True)
class FitOptions:
    """What ``lumos.zoo.train_on`` passes to a recipe beyond its config (None: train as the zoo does).

    ``sample_weight``: (N,) per-row weights of the training loss. ``label_probs``: (N, K) probabilistic
    labels that replace the hard ones. ``dynamics``: record every training example's predicted probabilities
    once per epoch (data maps; see ``DynamicsRecorder``)."""

    sample_weight: np.ndarray | None = None
    label_probs: np.ndarray | None = None
    dynamics: bool = False

    @property
    def plain(self) -> bool:
        """True when the recipe trains exactly as the zoo does."""
        return self.sample_weight is None and self.label_probs is None


class DynamicsRecorder:
    """Training dynamics (Swayamdipta et al. 2020): each training example's probabilities as the model saw it
    during each epoch, taken from the training forward passes themselves (no extra pass).

    ``on_batch(idx, logits)`` inside the loop, ``end_epoch()`` after each epoch; ``probs``: (E, N, K) float32."""

    PREFIX = "dyn."

    def __init__(self, n: int):
        self.n, self._epochs, self._current = n, [], None

    def on_batch(self, idx: np.ndarray | torch.Tensor, logits: torch.Tensor) -> None:
        p = torch.softmax(logits.detach().float(), dim=1).cpu().numpy()
        if self._current is None:
            self._current = np.full((self.n, p.shape[1]), np.nan, dtype=np.float32)
        self._current[np.asarray(idx)] = p

    def end_epoch(self) -> None:
        if self._current is not None:
            self._epochs.append(self._current)
        self._current = None

    def add_epoch(self, probs: np.ndarray) -> None:
        """A whole epoch's (N, K) probabilities at once (models trained without batches, e.g. boosting stages)."""
        self._epochs.append(np.asarray(probs, dtype=np.float32))

    @property
    def probs(self) -> np.ndarray:
        return np.stack(self._epochs) if self._epochs else np.zeros((0, self.n, 0), np.float32)

    def arrays(self, index: np.ndarray) -> dict[str, np.ndarray]:
        """``index``: (N,) the recorded rows' positions in the caller's training split."""
        return {f"{self.PREFIX}probs": self.probs, f"{self.PREFIX}index": np.asarray(index, dtype=np.int64)}


def classification_loss(logits: torch.Tensor, y: torch.Tensor, weight: torch.Tensor | None = None,
                        probs: torch.Tensor | None = None) -> torch.Tensor:
    """Cross-entropy of logits (B, K) against labels y (B,) or, when given, probabilistic labels ``probs``
    (B, K) (soft cross-entropy); each row's term times ``weight`` (B,) when given. Without either it is
    ``cross_entropy(logits, y)`` itself."""
    if weight is None and probs is None:
        return nn.functional.cross_entropy(logits, y)
    per_row = nn.functional.cross_entropy(logits, probs if probs is not None else y, reduction="none")
    return (per_row * weight).mean() if weight is not None else per_row.mean()


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """torch's global generator seeded inside, and restored to the caller's state afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def subset_index(total: int, n: int | None, seed: int) -> np.ndarray:
    """Positions of at most n of ``total`` rows: a seeded sample, in the original order."""
    if n is None or n >= total:
        return np.arange(total)
    return np.sort(np.random.default_rng(seed).choice(total, size=n, replace=False))


def subset(frame: pd.DataFrame, n: int | None, seed: int) -> pd.DataFrame:
    """At most n rows, a seeded sample kept in the original order."""
    if n is None or n >= len(frame):
        return frame
    return frame.iloc[subset_index(len(frame), n, seed)].reset_index(drop=True)


@dataclass(frozen=True)
class TrainingRows:
    """The rows a recipe trains on: ``frame`` (a seeded subset when ``train_size`` asks), their ``index`` in the
    training split, and the matching weights and probabilistic labels (or None)."""

    frame: pd.DataFrame
    index: np.ndarray
    sample_weight: np.ndarray | None
    label_probs: np.ndarray | None


def training_rows(train: pd.DataFrame, cfg: Config, options: FitOptions | None) -> TrainingRows:
    """``subset`` of the training split, with ``options``' weights and probabilistic labels taken alike."""
    index = subset_index(len(train), cfg.train_size, cfg.seed)
    frame = subset(train, cfg.train_size, cfg.seed)
    opts = options or FitOptions()
    pick = lambda a: None if a is None else np.asarray(a)[index]  # noqa: E731
    return TrainingRows(frame, index, pick(opts.sample_weight), pick(opts.label_probs))


def expand_soft(n: int, y: np.ndarray, sample_weight: np.ndarray | None, label_probs: np.ndarray | None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For estimators that take hard labels and weights: (rows, labels, weights) where each of the n rows
    appears once per class k, labelled k and weighted weight * p_k; without ``label_probs`` each row once with
    its label. ``rows`` indexes the n rows. Rows of weight 0 stay (they add nothing to the loss, and keep every
    class present for estimators that need it)."""
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if label_probs is None:
        return np.arange(n), np.asarray(y), w
    k = label_probs.shape[1]
    weights = (w[:, None] * np.asarray(label_probs, dtype=np.float64)).reshape(-1)
    return np.repeat(np.arange(n), k), np.tile(np.arange(k), n), weights


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
        if len(frame):
            out[name] = metrics(frame["label"].to_numpy(), predict(frame))
    return out


def epoch_callbacks(*callbacks: Callable[[nn.Module, float], Any] | None) -> Callable[[nn.Module, float], bool]:
    """One ``on_epoch`` callback that calls each given one in order (None is skipped) and asks to stop when any
    of them does."""
    def on_epoch(module: nn.Module, rate: float) -> bool:
        stops = [bool(c(module, rate)) for c in callbacks if c is not None]
        return any(stops)
    return on_epoch


class EpochTimer:
    """``on_epoch``-style callback keeping each epoch's wall-clock seconds (``seconds``), for the record."""

    def __init__(self) -> None:
        import time

        self._clock = time.perf_counter
        self._last = self._clock()
        self.seconds: list[float] = []

    def __call__(self, module: nn.Module | None = None, rate: float = 0.0) -> bool:
        now = self._clock()
        self.seconds.append(round(now - self._last, 2))
        self._last = now
        return False

    def record(self) -> dict[str, Any]:
        return {"epoch_seconds": self.seconds}


class EarlyStopping:
    """Early stopping on the validation split: after each epoch ``loss(module)`` (the validation loss) is
    compared with the best so far; training stops after ``patience`` epochs without improvement, and
    ``restore(module)`` puts back the weights of the best epoch.

    ``losses``: the validation loss after each epoch; ``best_epoch``: 1-based; ``stopped``: stopped early."""

    def __init__(self, loss: Callable[[nn.Module], float], patience: int):
        self.loss, self.patience = loss, int(patience)
        self.losses: list[float] = []
        self.best_epoch, self.stopped = 0, False
        self._best_state: dict[str, torch.Tensor] | None = None

    def __call__(self, module: nn.Module, rate: float = 0.0) -> bool:
        """Called after each epoch; True: stop now."""
        value = float(self.loss(module))
        self.losses.append(value)
        if self.best_epoch == 0 or value < self.losses[self.best_epoch - 1]:
            self.best_epoch = len(self.losses)
            self._best_state = copy.deepcopy(module.state_dict())
        self.stopped = len(self.losses) - self.best_epoch >= self.patience
        return self.stopped

    def restore(self, module: nn.Module) -> None:
        if self._best_state is not None and self.best_epoch < len(self.losses):
            module.load_state_dict(self._best_state)

    def record(self) -> dict[str, Any]:
        """What the training record keeps: the losses, the best epoch, whether it stopped early."""
        return {"validation_loss": [round(v, 5) for v in self.losses], "best_epoch": self.best_epoch,
                "stopped_early": self.stopped, "patience": self.patience}


def validation_loss(forward: Callable[[torch.Tensor], torch.Tensor], x: np.ndarray, y: np.ndarray,
                    batch_size: int = 256) -> float:
    """Mean cross-entropy of ``forward`` (a module, run here without gradients) over (x (N, ...), y (N,))."""
    total = 0.0
    with torch.no_grad():
        for lo in range(0, len(x), batch_size):
            xb = torch.from_numpy(np.ascontiguousarray(x[lo:lo + batch_size], dtype=np.float32))
            yb = torch.tensor(np.asarray(y[lo:lo + batch_size], dtype=np.int64))
            total += float(nn.functional.cross_entropy(forward(xb).float(), yb, reduction="sum"))
    return total / max(len(x), 1)


def stopper_for(module: nn.Module, validation: tuple[np.ndarray, np.ndarray] | None, patience: int | None,
                forward: Callable[[torch.Tensor], torch.Tensor] | None = None) -> EarlyStopping | None:
    """An ``EarlyStopping`` on ``validation`` (x, y) when ``patience`` is set and there are validation rows. The
    module is put in eval mode for the check (``fit_classifier`` puts it back in training mode each epoch)."""
    if patience is None or validation is None or len(validation[1]) == 0:
        return None

    def loss(m: nn.Module) -> float:
        m.eval()
        return validation_loss(forward or m, *validation)

    return EarlyStopping(loss, patience)


def fit_classifier(module: nn.Module, x: np.ndarray, y: np.ndarray, *, epochs: int, batch_size: int, lr: float,
                   weight_decay: float, seed: int, desc: str, progress: bool,
                   augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
                   on_epoch: Callable[[nn.Module, float], Any] | None = None,
                   sample_weight: np.ndarray | None = None, label_probs: np.ndarray | None = None,
                   dynamics: DynamicsRecorder | None = None) -> None:
    """Train ``module`` (inputs x (N, ...) float32 -> logits) with cross-entropy, AdamW and a linear decay of
    the learning rate to zero; shuffling and augmentation from ``seed``. Leaves the module in eval mode.
    ``on_epoch(module, mean learning rate of the epoch)`` after every epoch (e.g. TracIn checkpoints, early
    stopping); a true return value stops training. It is not part of the recipe's settings, so cached models
    are unaffected. ``sample_weight`` (N,) and
    ``label_probs`` (N, K) change the loss (see ``classification_loss``); ``dynamics`` records each batch's
    probabilities."""
    xt, yt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), torch.from_numpy(y.astype(np.int64))
    wt = None if sample_weight is None else torch.as_tensor(sample_weight, dtype=torch.float32)
    pt = None if label_probs is None else torch.as_tensor(label_probs, dtype=torch.float32)
    steps = epochs * math.ceil(len(xt) / batch_size)
    optimiser = torch.optim.AdamW(module.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: 1.0 - s / steps)
    gen = torch.Generator().manual_seed(seed)
    with progress_bar(steps, desc, progress) as bar:
        for _ in range(epochs):
            module.train()
            rates = []
            for idx in torch.randperm(len(xt), generator=gen).split(batch_size):
                xb = xt[idx] if augment is None else augment(xt[idx], gen)
                logits = module(xb)
                loss = classification_loss(logits, yt[idx], None if wt is None else wt[idx],
                                           None if pt is None else pt[idx])
                if dynamics is not None:
                    dynamics.on_batch(idx.numpy(), logits)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                rates.append(optimiser.param_groups[0]["lr"])
                optimiser.step()
                schedule.step()
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
            if dynamics is not None:
                dynamics.end_epoch()
            if on_epoch is not None and on_epoch(module, float(np.mean(rates))):
                break
    module.eval()


def predict_probs(module: nn.Module, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """(N, ...) float32 -> (N, K) float64 softmax probabilities, in eval mode without gradients."""
    module.eval()
    with torch.inference_mode():
        out = [torch.softmax(module(torch.from_numpy(np.ascontiguousarray(c, dtype=np.float32))).double(), 1)
               for c in np.array_split(x, max(1, math.ceil(len(x) / batch_size)))]
    return torch.cat(out).numpy()


@dataclass(frozen=True)
class TrainingDynamics:
    """What a ``DynamicsRecorder`` kept: ``probs`` (E, N, K) each recorded training row's probabilities per
    epoch (NaN where a row was not seen that epoch), ``index`` (N,) those rows' positions in the training split."""

    probs: np.ndarray
    index: np.ndarray

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "TrainingDynamics | None":
        prefix = DynamicsRecorder.PREFIX
        if f"{prefix}probs" not in arrays:
            return None
        return cls(np.asarray(arrays[f"{prefix}probs"]), np.asarray(arrays[f"{prefix}index"]))


def without_dynamics(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: v for k, v in arrays.items() if not k.startswith(DynamicsRecorder.PREFIX)}

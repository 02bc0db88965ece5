"""Model-parameter randomisation test (Adebayo et al. 2018), cascading from the output layer down.

Layer groups are randomised one after another on a copy of the model (the user's model is never touched),
the explanation is recomputed after each, and compared with the original: Spearman rank correlation of the
absolute attributions and, for images, SSIM of the maps. An explanation that depends on what the model
learned should decorrelate quickly: the score is the mean Spearman over the cascade (lower is better).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import spearmanr
from torch import nn

from ..errors import InputError, UnsupportedError
from ..registry import register
from .base import Metric


def layer_groups(module: nn.Module) -> list[tuple[str, list[nn.Module]]]:
    """Modules holding parameters, grouped by block (the path up to its first number, e.g.
    'bert.encoder.layer.3'), ordered from the output to the input."""
    groups: dict[str, list[nn.Module]] = {}
    for name, m in module.named_modules():
        if any(True for _ in m.parameters(recurse=False)):
            match = re.match(r"^(.*?\.?\d+)(\.|$)", name)
            key = match.group(1) if match else name
            groups.setdefault(key, []).append(m)
    return list(reversed(list(groups.items())))


def randomise(modules: list[nn.Module], seed: int) -> None:
    """Re-initialise in place: the module's own ``reset_parameters`` where it has one, else N(0, std)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for m in modules:
            if hasattr(m, "reset_parameters"):
                m.reset_parameters()
            else:
                for p in m.parameters(recurse=False):
                    with torch.no_grad():
                        p.normal_(0.0, float(p.std()) if p.numel() > 1 else 1.0)


def _ssim(a: np.ndarray, b: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    lo, hi = min(a.min(), b.min()), max(a.max(), b.max())
    if hi <= lo or min(a.shape) < 7:
        return float("nan")
    return float(structural_similarity(a, b, data_range=hi - lo))


@register("mprt", kind="metric")
@dataclass(frozen=True)
class Mprt(Metric):
    """``max_layers``: randomise only the top n groups (None: all). Details: the layer names and the
    per-layer Spearman (B, L) and SSIM (B, L; NaN for text and tables)."""

    family = "randomization"
    higher_is_better = False
    bounds = (-1.0, 1.0)
    summary = "Rank correlation of explanations before and after cascading randomisation of the model."
    requires = ("network", "randomisable")
    reexplains = True
    max_layers: int | None = None
    absolute: bool = True

    def compute(self, ctx):
        if not ctx.model.can(*self.requires):
            raise UnsupportedError(f"mprt randomises a torch model's layers; {type(ctx.model).__name__} has none.")
        randomised = copy.deepcopy(ctx.model.network)
        groups = layer_groups(randomised)[: self.max_layers]
        original = [self._values(e) for e in ctx.explanations]
        spearman = np.full((len(original), len(groups)), np.nan)
        ssim = np.full_like(spearman, np.nan)
        for col, (name, modules) in enumerate(groups):
            randomise(modules, ctx.seed + col)
            again = ctx.reexplain(model=ctx.model.with_network(randomised))
            for row, (before, e) in enumerate(zip(original, again)):
                after = self._values(e)
                if np.ptp(before) > 0 and np.ptp(after) > 0:
                    spearman[row, col] = spearmanr(before.ravel(), after.ravel()).statistic
                if ctx.batch.modality == "image":
                    ssim[row, col] = _ssim(before, after)
        return np.nanmean(spearman, axis=1), {"layers": [n for n, _ in groups], "spearman": spearman, "ssim": ssim}

    def _values(self, e) -> np.ndarray:
        a = e.attributions.astype(np.float64)
        a = a.sum(axis=0) if a.ndim == 3 else a
        return np.abs(a) if self.absolute else a

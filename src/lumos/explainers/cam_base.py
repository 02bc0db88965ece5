"""Shared machinery of class activation maps: finding the layer, capturing its activations and gradients."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import ClassVar, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError, UnsupportedError
from .base import Attribution, Explainer


def find_layer(module: nn.Module, name: str | None) -> tuple[str, nn.Module]:
    """The module called ``name``, or the last Conv2d when ``name`` is None."""
    named = dict(module.named_modules())
    if name is not None:
        if name not in named:
            convs = [n for n, m in named.items() if isinstance(m, nn.Conv2d)]
            raise InputError(f"no layer named {name!r}; convolution layers: {', '.join(convs) or 'none'}.")
        return name, named[name]
    convs = [(n, m) for n, m in named.items() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise UnsupportedError("CAM methods need a convolution layer; the model has none. Pass layer='name'.")
    return convs[-1]


@contextlib.contextmanager
def capture_output(layer: nn.Module) -> Iterator[list[torch.Tensor]]:
    """Collect the layer's output tensors during forwards; the hook is removed on exit."""
    seen: list[torch.Tensor] = []
    handle = layer.register_forward_hook(lambda mod, inp, out: seen.append(out[0] if isinstance(out, tuple) else out))
    try:
        yield seen
    finally:
        handle.remove()


@dataclass(frozen=True)
class CamExplainer(Explainer):
    """``layer``: a module name (default: the last Conv2d). ``output``: "logit" (default, as in the papers)
    or "probability". Maps are (1, H, W), upsampled bilinearly to the input size."""

    modalities: ClassVar[tuple[str, ...]] = ("image",)
    requires: ClassVar[tuple[str, ...]] = ("gradients", "network")
    layer: str | None = None
    output: str = "logit"
    upsample: bool = True

    def channel_weights(self, acts: torch.Tensor, grads: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        """(N, K, h, w) activations and gradients -> (N, K) channel weights."""
        raise NotImplementedError

    def attribute(self, model, batch, targets, probs, seed):
        name, layer = find_layer(model.network, self.layer)
        space = model.gradient_space(batch)
        t = torch.as_tensor(targets, device=space.x.device)
        maps = []
        for lo in range(0, len(space.x), space.max_rows):
            x = space.x[lo:lo + space.max_rows]
            rows = torch.arange(len(x), device=x.device)
            with capture_output(layer) as seen, torch.enable_grad():
                score = space.score(x, rows, t[lo:lo + len(x)], self.output)
                if not seen:
                    raise UnsupportedError(f"layer {name!r} did not run in the forward pass.")
                acts = seen[-1]
                if acts.dim() != 4:
                    raise UnsupportedError(f"layer {name!r} outputs shape {tuple(acts.shape)}; CAM needs (N, K, h, w).")
                (grads,) = torch.autograd.grad(score.sum(), acts)
            w = self.channel_weights(acts.detach(), grads.detach(), score.detach())
            cam = F.relu((w[:, :, None, None] * acts.detach()).sum(1, keepdim=True))
            if self.upsample:
                cam = F.interpolate(cam, size=x.shape[2:], mode="bilinear", align_corners=False)
            maps.append(cam.float().cpu().numpy())
        return [Attribution(m.astype(np.float32), {"layer": name}) for m in np.concatenate(maps)]

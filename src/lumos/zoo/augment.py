"""Image augmentations for the torch image recipes: each takes a batch (B, C, H, W) in [0, 1] and a torch
generator (so training stays repeatable) and returns a batch of the same shape.

``chain(named("flip,shift", size))`` runs them in the order given. The choices (``AUGMENTATIONS``):
``flip`` (mirror left-right, half the images), ``shift`` (move by up to 1/8 of the side, zero-filled),
``color`` (brightness and contrast each scaled by 0.8..1.2 per image, clipped to [0, 1]).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from ..errors import InputError

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def random_shift(limit: int) -> Augment:
    """The batch moved by up to ``limit`` pixels in x and y (one offset per batch), zero-filled."""
    def shift(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        padded = nn.functional.pad(x, (limit,) * 4)
        dy, dx = torch.randint(0, 2 * limit + 1, (2,), generator=gen).tolist()
        return padded[..., dy:dy + x.shape[-2], dx:dx + x.shape[-1]]
    return shift


def random_flip(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Each image mirrored left-right with probability 1/2."""
    flip = torch.rand(len(x), generator=gen) < 0.5
    return torch.where(flip[:, None, None, None], x.flip(-1), x)


def random_color(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Per image: contrast around its mean and brightness, each scaled by a factor in [0.8, 1.2]."""
    contrast, brightness = (0.8 + 0.4 * torch.rand(2, len(x), 1, 1, 1, generator=gen)).unbind(0)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return ((x - mean) * contrast + mean * brightness).clamp(0.0, 1.0)


AUGMENTATIONS: dict[str, Callable[[int], Augment]] = {
    "flip": lambda size: random_flip,
    "shift": lambda size: random_shift(max(1, size // 8)),
    "color": lambda size: random_color,
}


def parse(names: str) -> list[str]:
    """"flip, shift" -> ["flip", "shift"]; an unknown name is an InputError listing the choices."""
    chosen = [n.strip() for n in names.split(",") if n.strip()] if names else []
    unknown = [n for n in chosen if n not in AUGMENTATIONS]
    if unknown:
        raise InputError(f"unknown augmentation {unknown[0]!r}; choose from {', '.join(AUGMENTATIONS)} "
                         "(comma-separated, e.g. 'flip,shift'), or '' for none.")
    return chosen


def named(names: str, size: int) -> list[Augment]:
    """The named augmentations for images of side ``size``, in the order given."""
    return [AUGMENTATIONS[n](size) for n in parse(names)]


def chain(steps: list[Augment]) -> Augment | None:
    """One augmentation running ``steps`` in order; None when there are none."""
    if not steps:
        return None
    if len(steps) == 1:
        return steps[0]

    def run(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        for step in steps:
            x = step(x, gen)
        return x
    return run

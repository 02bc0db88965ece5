"""Adapter for a PyTorch ``nn.Module`` that returns logits, on images (B, C, H, W) or tables (B, F)."""

from __future__ import annotations

import contextlib
from typing import Iterator, Sequence

import numpy as np
import torch
from torch import nn

from ..errors import InputError, ModelError
from ..features.image import image_baseline
from .base import Batch, Model
from .gradients import GradientSpace


@contextlib.contextmanager
def eval_mode(module: nn.Module) -> Iterator[None]:
    """Put every submodule in eval mode and restore each one's own flag afterwards."""
    flags = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield
    finally:
        for m, was_training in flags:
            m.training = was_training


class TorchModel(Model):
    modalities = ("image", "tabular")
    capabilities = frozenset({"gradients", "network", "randomisable", "logits"})

    def __init__(self, module: nn.Module, labels: Sequence[str] | None = None, batch_size: int | str = "auto",
                 device: str | torch.device | None = None):
        super().__init__(labels, batch_size)
        self.module = module
        param = next(module.parameters(), None)
        self.device = torch.device(device) if device is not None else (param.device if param is not None else
                                                                        torch.device("cpu"))
        self.dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32

    @property
    def network(self) -> nn.Module:
        """The torch module whose parameters define the model (what MPRT randomises)."""
        return self.module

    def with_network(self, module: nn.Module) -> "TorchModel":
        """The same adapter around another module (e.g. a randomised copy)."""
        return TorchModel(module, self.labels, self.sizer.batch_size, self.device)

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        with eval_mode(self.module):
            yield

    def _check_array(self, x: np.ndarray, modality: str) -> None:
        first = next((m for m in self.module.modules() if isinstance(m, (nn.Conv2d, nn.Linear))), None)
        if modality == "image" and isinstance(first, nn.Conv2d) and x.shape[1] != first.in_channels:
            raise InputError(f"the model's first convolution takes {first.in_channels} channels; the images have "
                             f"{x.shape[1]} (shape {x.shape}). Images must be (B, C, H, W).")
        if modality == "tabular" and isinstance(first, nn.Linear) and x.shape[1] != first.in_features:
            raise InputError(f"the model's first layer takes {first.in_features} features; got {x.shape[1]}.")
        if x.dtype == object:
            raise InputError("a torch model needs numeric inputs; got non-numeric columns. Encode them first.")

    def network_inputs(self, inputs: object) -> torch.Tensor:
        return self.to_tensor(self.prepare(inputs).x)

    def to_tensor(self, x: np.ndarray | torch.Tensor) -> torch.Tensor:
        return torch.as_tensor(np.asarray(x, dtype=np.float32) if isinstance(x, np.ndarray) else x,
                               dtype=self.dtype, device=self.device)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        try:
            out = self.module(x)
        except RuntimeError as e:
            first_line = str(e).splitlines()[0]
            raise ModelError(f"the model failed on a batch of shape {tuple(x.shape)}: {first_line}") from e
        if isinstance(out, (tuple, list)):
            out = out[0]
        if hasattr(out, "logits"):
            out = out.logits
        if out.ndim != 2:
            raise ModelError(f"the model must return logits of shape (B, n_classes); got {tuple(out.shape)}.")
        return out

    def _probs(self, rows: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return torch.softmax(self.logits(self.to_tensor(rows)).float(), dim=1).cpu().numpy()

    def gradient_space(self, batch: Batch) -> "TensorGradientSpace":
        return TensorGradientSpace(self, batch)


class TensorGradientSpace(GradientSpace):
    """Gradients with respect to the pixels or table values themselves."""

    def __init__(self, model: TorchModel, batch: Batch):
        self.model = model
        self.batch = batch
        self.x = model.to_tensor(batch.x)
        per_row = int(np.prod(batch.x.shape[1:]))
        self.max_rows = max(1, min(256, (2**22) // max(per_row, 1)))  # ~16 MB of input per backward chunk

    def logits(self, z: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        return self.model.logits(z)

    def baseline(self, spec: object) -> torch.Tensor:
        if isinstance(spec, torch.Tensor):
            spec = spec.detach().cpu().numpy()
        x = self.batch.x
        if self.batch.modality == "image":
            if isinstance(spec, np.ndarray) and spec.shape == x.shape:
                return self.model.to_tensor(spec)
            return self.model.to_tensor(np.stack([image_baseline(xi, spec) for xi in x]))  # type: ignore[arg-type]
        if isinstance(spec, str):
            if spec != "zeros":
                raise InputError(f"unknown tabular baseline {spec!r}; use 'zeros', a row of values or an array (B, F).")
            return torch.zeros_like(self.x)
        b = np.broadcast_to(np.asarray(spec, dtype=np.float32), x.shape)
        return self.model.to_tensor(b.copy())

    def attributions(self, elementwise: torch.Tensor, reduce: str = "sum") -> list[np.ndarray]:
        a = elementwise.detach().float().cpu().numpy()
        if reduce in ("abs", "norm"):
            a = np.abs(a)
        return [ai.astype(np.float32) for ai in a]

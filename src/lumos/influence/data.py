"""From a lumos Model and (inputs, labels) pairs to the tensor ``Problem`` the methods work on.

When every chosen parameter belongs to the output layer (``params="last_layer"``), the rest of the network is run
once, without gradients, and its output layer's inputs are cached: the problem is then the output layer alone on
those features, which is exact (the output layer's gradients do not depend on anything else) and cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.func import functional_call

from ..errors import InputError, UnsupportedError
from ..models import Model
from .problem import Problem, Rows, logits_of
from .selection import ParamSpec, output_module, select
from .text_grads import LinearHookProblem, linear_owners


def network_of(model: Model) -> nn.Module:
    """The torch module behind a lumos Model (its ``network`` capability); call it once per run."""
    if not model.can("network"):
        raise UnsupportedError(f"influence needs gradients of a torch network; a {type(model).__name__} has none. "
                               "Wrap an nn.Module, a (Hugging Face model, tokenizer) pair, a scikit-learn "
                               "LogisticRegression on tables, or a zoo MLP or logreg.")
    return model.network


def split_pair(data: Any, role: str, labels_required: bool) -> tuple[Any, Any]:
    """(inputs, labels) from what the user passed as ``train``/``test``."""
    if not (isinstance(data, tuple) and len(data) == 2):
        what = f"a {type(data).__name__}" + (f" of length {len(data)}" if isinstance(data, tuple) else "")
        raise InputError(f"{role} must be an (inputs, labels) pair; got {what}. Influence measures the effect of "
                         f"each labelled example on the loss: pass {role}=(inputs, labels).")
    inputs, labels = data
    if labels is None and labels_required:
        raise InputError(f"{role} has no labels (got ({type(inputs).__name__}, None)); the training loss needs "
                         f"them. Pass {role}=(inputs, labels) with one class index or label name per input.")
    return inputs, labels


def model_rows(model: Model, network: nn.Module, inputs: Any) -> Any:
    """Raw inputs -> what the network takes: a float tensor (images, tables) or token-id lists (text)."""
    rows = model.network_inputs(inputs)
    if isinstance(rows, list):
        return rows
    return rows.to(next(network.parameters()).dtype)


def label_indices(model: Model, labels: Any, n: int, n_classes: int, role: str) -> Tensor:
    """(n,) int64 class indices from ints or label names; errors name the mismatch."""
    y = np.asarray(labels.detach().cpu() if isinstance(labels, Tensor) else labels)
    if y.ndim != 1 or len(y) != n:
        raise InputError(f"{role} has {n} inputs but labels of shape {y.shape}; pass one label per input.")
    if y.dtype.kind in "UO":
        names = model.labels or []
        unknown = sorted({str(v) for v in y} - set(names))
        if unknown:
            raise InputError(f"{role} labels {unknown[:5]} are not the model's labels {names}.")
        y = np.array([names.index(str(v)) for v in y])
    if y.dtype.kind == "f" and np.any(y != np.round(y)) or y.dtype.kind not in "iuf":
        raise InputError(f"{role} labels must be class indices or label names; got dtype {y.dtype}.")
    y = y.astype(np.int64)
    if len(y) and (y.min() < 0 or y.max() >= n_classes):
        raise InputError(f"{role} labels range over {y.min()}..{y.max()}, but the model has {n_classes} classes.")
    return torch.from_numpy(y)


def _forward(model: Model, network: nn.Module, state: dict[str, Tensor], rows: Any) -> Tensor:
    """Logits of one batch of model rows with the network at ``state``."""
    if model.can("token_embeddings"):
        ids, mask = model.tokenize(rows)
        return logits_of(functional_call(network, state, (), {"input_ids": ids, "attention_mask": mask}))
    return logits_of(functional_call(network, state, (rows,)))


def _gives_logits(model: Model, network: nn.Module, state: dict[str, Tensor], head: str, rows: Any) -> bool:
    """Whether the module ``head`` takes (batch, features) and returns the network's logits (on a few rows)."""
    seen: list[tuple[Tensor, Tensor]] = []
    module = dict(network.named_modules())[head]
    hook = module.register_forward_hook(lambda m, args, out: seen.append((args[0], out)))
    try:
        with torch.no_grad():
            logits = _forward(model, network, state, rows[:8])
    finally:
        hook.remove()
    return len(seen) == 1 and seen[0][0].ndim == 2 and seen[0][1].shape == logits.shape \
        and bool(torch.allclose(seen[0][1], logits))


def _features(model: Model, network: nn.Module, state: dict[str, Tensor], head: nn.Module, rows: Any,
              batch_size: int) -> Tensor:
    """(n, d) inputs of the output layer ``head`` for every row (text sorted by length, then put back)."""
    seen: list[tuple[Tensor, Tensor]] = []
    hook = head.register_forward_hook(lambda m, args, out: seen.append((args[0].detach(), out.detach())))
    order = np.argsort([len(r) for r in rows], kind="stable") if isinstance(rows, list) else np.arange(len(rows))
    parts = []
    try:
        with torch.no_grad():
            for lo in range(0, len(rows), batch_size):
                idx = order[lo:lo + batch_size]
                batch = [rows[i] for i in idx] if isinstance(rows, list) else rows[idx]
                seen.clear()
                logits = _forward(model, network, state, batch)
                if len(seen) != 1 or seen[0][0].ndim != 2 or not torch.allclose(seen[0][1], logits):
                    raise UnsupportedError("the output layer's output is not the network's logits, so influence "
                                           "cannot be restricted to it; choose params=[module names] or 'all'.")
                parts.append(seen[0][0])
    finally:
        hook.remove()
    feats = torch.cat(parts)
    return feats[torch.from_numpy(np.argsort(order))]


def _predicted(module: nn.Module, state: dict[str, Tensor], x: Tensor, step: int = 256) -> Tensor:
    """(n,) the module's predicted classes."""
    with torch.no_grad():
        parts = [logits_of(functional_call(module, state, (x[i:i + step],))).argmax(1) for i in range(0, len(x), step)]
    return torch.cat(parts) if parts else torch.zeros(0, dtype=torch.long)


@dataclass
class Setup:
    """What does not change between checkpoints: the network, the chosen names, the model rows and labels."""

    model: Model
    network: nn.Module
    names: list[str]
    head: str | None  # the output module's name when every chosen parameter lies in it
    x_train: Any
    x_test: Any
    y_train: Tensor
    y_test: Tensor
    batch_size: int | None

    @property
    def parameter_names(self) -> list[str]:
        """The chosen names as the problem's module knows them (relative to the output layer if restricted)."""
        return self.names if self.head is None else [n[len(self.head) + 1:] for n in self.names]


def network_state(network: nn.Module, state: dict[str, Tensor] | None = None) -> dict[str, Tensor]:
    """Every parameter and buffer of ``network``, detached, taken from ``state`` (a checkpoint) when given.
    Buffers a state_dict leaves out by design (non-persistent ones, e.g. BERT's position ids) come from the
    network itself."""
    full = {**dict(network.named_parameters()), **dict(network.named_buffers())}
    if state is not None:
        own = set(full) - set(network.state_dict())  # non-persistent buffers
        missing = sorted(set(full) - set(state) - own)
        if missing:
            raise InputError(f"a checkpoint lacks the network's entries {missing[:5]}; pass full state_dicts.")
        full = {k: torch.as_tensor(state[k]) if k in state else v for k, v in full.items()}
    return {k: v.detach() for k, v in full.items()}


def setup(model: Model, network: nn.Module, train: Any, test: Any, params: ParamSpec,
          batch_size: int | None = None) -> Setup:
    """Validate the inputs once and bring them into the terms of ``network`` (``network_of(model)``);
    test labels None: the network's predictions."""
    train_inputs, train_labels = split_pair(train, "train", True)
    test_inputs, test_labels = split_pair(test, "test", False)
    names = select(network, params)
    x_train, x_test = model_rows(model, network, train_inputs), model_rows(model, network, test_inputs)
    own = network_state(network)
    head: str | None = output_module(network)
    if not all(n.startswith(f"{head}.") for n in names) or not _gives_logits(model, network, own, head, x_train):
        if model.can("token_embeddings") and linear_owners(network, names) is None:
            raise UnsupportedError(f"for text models influence covers Linear layers only; params={params!r} "
                                   "selects other parameters (embeddings, LayerNorm). Choose Linear modules by "
                                   "name, or params='last_layer'.")
        head = None
    first = x_train[:1]
    with torch.no_grad():
        n_classes = _forward(model, network, own, first).shape[1]
    y_train = label_indices(model, train_labels, len(x_train), n_classes, "train")
    if test_labels is None:
        with torch.no_grad():
            logits = [_forward(model, network, own, x_test[i:i + 256]) for i in range(0, len(x_test), 256)]
        y_test = torch.cat(logits).argmax(1) if logits else torch.zeros(0, dtype=torch.long)
    else:
        y_test = label_indices(model, test_labels, len(x_test), n_classes, "test")
    return Setup(model, network, names, head, x_train, x_test, y_train, y_test, batch_size)


def problem_at(s: Setup, state: dict[str, Tensor] | None = None) -> Problem:
    """The problem with the network at ``state`` (a checkpoint; default: its own parameters)."""
    full = network_state(s.network, state)
    if s.head is None and s.model.can("token_embeddings"):
        hooked = LinearHookProblem(s.model, s.network, full, s.names, Rows(s.x_train, s.y_train),
                                   Rows(s.x_test, s.y_test), s.batch_size)
        return hooked  # type: ignore[return-value]  (the gradient side of Problem)
    if s.head is None:
        return Problem(s.network, full, s.names, Rows(s.x_train, s.y_train), Rows(s.x_test, s.y_test), s.batch_size)
    module = dict(s.network.named_modules())[s.head]
    step = s.batch_size or (64 if s.model.can("token_embeddings") else 1024)
    x_train = _features(s.model, s.network, full, module, s.x_train, step)
    x_test = _features(s.model, s.network, full, module, s.x_test, step)
    head_state = {k[len(s.head) + 1:]: v for k, v in full.items() if k.startswith(s.head + ".")}
    return Problem(module, head_state, s.parameter_names, Rows(x_train, s.y_train),
                   Rows(x_test, s.y_test), s.batch_size)

"""Which parameters influence is computed for: "last_layer", a list of module names, or "all"."""

from __future__ import annotations

from typing import Sequence

from torch import nn

from ..errors import InputError
from ..registry import did_you_mean

ParamSpec = str | Sequence[str]


def output_module(network: nn.Module) -> str:
    """Name of the last module (in registration order) that holds parameters of its own: the output layer."""
    owners = [name for name, m in network.named_modules() if any(True for _ in m.parameters(recurse=False))]
    if not owners:
        raise InputError(f"the {type(network).__name__} has no parameters, so there is nothing to take "
                         "gradients of. Influence needs a trained network with parameters.")
    return owners[-1]


def select(network: nn.Module, params: ParamSpec) -> list[str]:
    """Names of the trainable parameters (requires_grad) chosen by ``params``, in ``named_parameters`` order."""
    if params == "all":
        prefixes = [""]
    elif params == "last_layer":
        prefixes = [output_module(network)]
    elif isinstance(params, (list, tuple)) and params and all(isinstance(p, str) for p in params):
        modules = dict(network.named_modules())
        for name in params:
            if name not in modules:
                raise did_you_mean(name, [m for m in modules if m], "module of the network",
                                   f"layers names module {name!r}, which the network does not have (pass names from "
                                   "network.named_modules(), 'last_layer' or 'all')")
        prefixes = list(params)
    else:
        raise InputError(f"layers must be 'last_layer', 'all' or a non-empty list of module names; got {params!r}.")
    chosen = [n for n, p in network.named_parameters()
              if any(pre == "" or n == pre or n.startswith(pre + ".") for pre in prefixes)]
    trainable = [n for n, p in network.named_parameters() if n in chosen and p.requires_grad]
    if not trainable:
        raise InputError(f"layers={params!r} selects {len(chosen)} parameters and none is trainable "
                         "(requires_grad=False). Unfreeze them (p.requires_grad_(True)) or choose other modules "
                         "with params=[module names] or params='all'.")
    return trainable

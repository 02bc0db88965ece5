"""Rows seen by a Hugging Face model's forward, whoever calls it. Imported by both sides of vs_ferret (lumos's
environment and ferret's), so it needs nothing but torch."""

from __future__ import annotations


class ForwardRows:
    """Counts the rows (input_ids or inputs_embeds) of every forward call of ``model`` until ``remove()``."""

    def __init__(self, model):
        self.rows = 0
        self.handle = model.register_forward_pre_hook(self._hook, with_kwargs=True)

    def _hook(self, _module, args, kwargs) -> None:
        x = args[0] if args else kwargs.get("input_ids")
        if x is None:
            x = kwargs.get("inputs_embeds")
        self.rows += int(x.shape[0])

    def remove(self) -> None:
        self.handle.remove()

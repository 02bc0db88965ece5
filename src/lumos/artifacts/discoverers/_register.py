"""``@discoverer(name)``: register a discoverer function with the metadata every plug-in declares."""

from __future__ import annotations

import inspect
from typing import Any, Callable

from ...registry import DISCOVERERS


def discoverer(name: str, modalities: tuple[str, ...] = ("text", "tabular"), requires: tuple[str, ...] = ()
               ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``fn`` as the discoverer ``name``; its keyword-only defaults are its params, the first line of
    its docstring its summary."""

    def add(fn: Callable[..., Any]) -> Callable[..., Any]:
        params = {k: p.default for k, p in inspect.signature(fn).parameters.items()
                  if p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is not inspect.Parameter.empty}
        summary = (fn.__doc__ or "").strip().splitlines()[0]
        info = {"summary": summary, "modalities": modalities, "requires": requires, "params": params}
        fn.info = lambda: dict(info)  # type: ignore[attr-defined]
        return DISCOVERERS.register(name, fn)

    return add

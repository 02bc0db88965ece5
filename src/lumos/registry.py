"""Name -> class registries for explainers, metrics and attacks.

``@register("name")`` on a class makes it reachable by name from the public API and puts it under the
conformance tests with no other edit.
"""

from __future__ import annotations

import difflib
from typing import Any, Callable, TypeVar

from .errors import InputError

T = TypeVar("T")

_REGISTRIES: dict[str, dict[str, type]] = {"explainer": {}, "metric": {}, "attack": {}}


def register(name: str, kind: str = "explainer") -> Callable[[type[T]], type[T]]:
    """Class decorator: register ``cls`` under ``name`` in the ``kind`` registry."""

    def decorate(cls: type[T]) -> type[T]:
        table = _REGISTRIES[kind]
        if name in table and table[name] is not cls:
            raise RuntimeError(f"two {kind}s registered as {name!r}: {table[name]} and {cls}")
        cls.name = name  # type: ignore[attr-defined]
        table[name] = cls
        return cls

    return decorate


def get(name: str, kind: str = "explainer") -> type:
    """The class registered as ``name``; an unknown name raises an InputError that suggests the closest."""
    _load_builtins()
    table = _REGISTRIES[kind]
    if not isinstance(name, str) or name not in table:
        close = difflib.get_close_matches(str(name), table, n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise InputError(f"unknown {kind} {name!r}.{hint} Known {kind}s: {', '.join(sorted(table))}.")
    return table[name]


def names(kind: str = "explainer") -> list[str]:
    _load_builtins()
    return sorted(_REGISTRIES[kind])


def describe(kind: str = "explainer") -> dict[str, dict[str, Any]]:
    """Name -> metadata (the ``info()`` of each registered class)."""
    _load_builtins()
    return {name: cls.info() for name, cls in sorted(_REGISTRIES[kind].items())}


def _load_builtins() -> None:
    from . import explainers, metrics  # noqa: F401  (importing registers the built-in methods and metrics)

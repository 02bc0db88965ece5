"""Renamed names keep working for one release, with a DeprecationWarning that says the new name."""

from __future__ import annotations

import functools
import sys
import types
import warnings
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def warn(old: str, new: str, stacklevel: int = 3) -> None:
    warnings.warn(f"{old} is deprecated and will be removed in the next release; use {new}.", DeprecationWarning,
                  stacklevel=stacklevel)


def renamed_keywords(**renames: str) -> Callable[[F], F]:
    """``@renamed_keywords(old="new")``: a call with ``old=`` warns and is passed on as ``new=``."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{fn.__name__}() got both {old}= (deprecated) and {new}=; pass {new}= only.")
                    warn(f"{fn.__name__}({old}=...)", f"{new}=...")
                    kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def callable_module(module_name: str, fn: Callable[..., Any], old: str, new: str) -> None:
    """Let the module ``module_name`` be called like ``fn`` (warning that ``old`` is now ``new``): for the names
    that were a function and a package at once, until the function form is removed."""

    class CallableModule(types.ModuleType):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            warn(old, new)
            return fn(*args, **kwargs)

    sys.modules[module_name].__class__ = CallableModule

"""``@discoverer(name, rules=...)``: register a discoverer function with the metadata every plug-in declares, and
check its keyword arguments against their declared rules before it runs."""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Mapping

from ...errors import InputError
from ...params import Constraint, Int, IntRange, Names, Optional, Str, check_all
from ...registry import DISCOVERERS

# the rules the discoverers share: how they read the data and which candidate features they count
DATA_RULES: dict[str, Constraint] = {"min_count": Int(low=1), "ngram_range": IntRange(low=1), "n_bins": Int(low=1),
                                     "label_column": Str(), "text_column": Optional(Str()),
                                     "class_names": Optional(Names())}


def data_rules(*names: str) -> dict[str, Constraint]:
    """The shared rules of ``names`` (default: all of them)."""
    return {k: DATA_RULES[k] for k in names or DATA_RULES}


def discoverer(name: str, rules: Mapping[str, Constraint], modalities: tuple[str, ...] = ("text", "tabular"),
               requires: tuple[str, ...] = ()) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``fn`` as the discoverer ``name``; its keyword-only defaults are its params (each needs its rule
    in ``rules``: keyword -> ``lumos.params`` constraint), the first line of its docstring its summary. A call
    with a value that breaks its rule is an InputError naming the discoverer and the keyword, before any work."""

    def add(fn: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(fn)
        params = {k: p.default for k, p in signature.parameters.items()
                  if p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is not inspect.Parameter.empty}
        undeclared = sorted(set(params) - set(rules)) + sorted(set(rules) - set(params))
        if undeclared:
            raise TypeError(f"discoverer {name!r}: rules and keyword-only parameters differ on {undeclared}")
        summary = (fn.__doc__ or "").strip().splitlines()[0]
        info = {"summary": summary, "modalities": modalities, "requires": requires, "params": params,
                "constraints": {k: rule.describe() for k, rule in rules.items()}}

        @functools.wraps(fn)
        def checked(*args: Any, **kwargs: Any) -> Any:
            try:
                given = signature.bind(*args, **kwargs).arguments
            except TypeError as e:
                raise InputError(f"{name}: {e}; its parameters: {', '.join(signature.parameters)}.") from None
            check_all(name, ((k, given[k], rule) for k, rule in rules.items() if k in given))
            return fn(*args, **kwargs)

        checked.param_rules = dict(rules)  # type: ignore[attr-defined]
        checked.info = lambda: dict(info)  # type: ignore[attr-defined]
        return DISCOVERERS.register(name, checked)

    return add

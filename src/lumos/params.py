"""Declared constraints on hyper-parameters, checked in one place.

A method, metric or attack declares each hyper-parameter with ``param(default, constraint)``; the base class
checks every field when the object is built, so a new plug-in gets validation by declaring its constraints::

    n_samples: int = param(1000, Int(low=2))
    kernel_width: float = param(0.25, Float(low=0, low_open=True))

A bad value raises an ``InputError`` that names the owner and the parameter, says what it must be and what
was received: ``lime: n_samples must be an int >= 2; got '100' (str).`` Fields declared without ``param``
are checked from their type annotation (int, float, bool, str, and ``X | None`` of those). A plug-in that is
not a dataclass (a label model) declares its rules as a class attribute ``param_rules`` (keyword -> constraint)
and checks its arguments with ``check_all``.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import typing
from typing import Any, Iterable

import numpy as np

from .errors import InputError

CONSTRAINT = "lumos.constraint"


class Constraint:
    """One rule a value must follow; ``problem`` returns None when it does, else a short reason (may be '')."""

    def problem(self, value: Any) -> str | None:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _is_real(v: Any) -> bool:
    return isinstance(v, (numbers.Real, np.floating, np.integer)) and not isinstance(v, (bool, np.bool_))


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else f"{v:g}"


def _range_text(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{_num(low)}, {_num(high)}{')' if high_open else ']'}"
    if low is not None:
        return f" {'>' if low_open else '>='} {_num(low)}"
    if high is not None:
        return f" {'<' if high_open else '<='} {_num(high)}"
    return ""


def _in_range(v: float, low: float | None, high: float | None, low_open: bool, high_open: bool) -> bool:
    if low is not None and (v < low or (low_open and v == low)):
        return False
    return not (high is not None and (v > high or (high_open and v == high)))


@dataclasses.dataclass(frozen=True)
class Int(Constraint):
    """An integer (Python or numpy; never a bool) in [low, high]."""

    low: int | None = None
    high: int | None = None

    def problem(self, value):
        if not _is_int(value):
            return ""
        return None if _in_range(int(value), self.low, self.high, False, False) else "out of range"

    def describe(self):
        return "an int" + _range_text(self.low, self.high, False, False)


@dataclasses.dataclass(frozen=True)
class Float(Constraint):
    """A real number (ints accepted, bools not), finite unless ``finite=False``, within the bounds."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    finite: bool = True

    def problem(self, value):
        if not _is_real(value):
            return ""
        v = float(value)
        if math.isnan(v) or (self.finite and math.isinf(v)):
            return "not finite"
        return None if _in_range(v, self.low, self.high, self.low_open, self.high_open) else "out of range"

    def describe(self):
        return ("a finite number" if self.finite else "a number") + _range_text(self.low, self.high, self.low_open,
                                                                                 self.high_open)


@dataclasses.dataclass(frozen=True)
class Bool(Constraint):
    def problem(self, value):
        return None if isinstance(value, (bool, np.bool_)) else ""

    def describe(self):
        return "True or False"


@dataclasses.dataclass(frozen=True)
class Str(Constraint):
    """A non-empty string."""

    def problem(self, value):
        return None if isinstance(value, str) and value.strip() else ""

    def describe(self):
        return "a non-empty string"


class Choice(Constraint):
    """One of the given strings."""

    def __init__(self, *options: str):
        self.options = tuple(options)

    def problem(self, value):
        return None if isinstance(value, str) and value in self.options else ""

    def describe(self):
        return "one of " + ", ".join(repr(o) for o in self.options)

    def __repr__(self) -> str:
        return f"Choice{self.options!r}"


class Optional(Constraint):
    """None, or a value that follows ``inner``."""

    def __init__(self, inner: Constraint):
        self.inner = inner

    def problem(self, value):
        return None if value is None else self.inner.problem(value)

    def describe(self):
        return f"None or {self.inner.describe()}"

    def __repr__(self) -> str:
        return f"Optional({self.inner!r})"


class AnyOf(Constraint):
    """A value that follows at least one of ``options``; the reason given is that of the option of the same
    kind (a number out of range is reported as such, not as "not a string")."""

    def __init__(self, *options: Constraint):
        self.options = tuple(options)

    def problem(self, value):
        reasons = [c.problem(value) for c in self.options]
        if any(r is None for r in reasons):
            return None
        return next((r for r in reasons if r), "")

    def describe(self):
        return " or ".join(c.describe() for c in self.options)

    def __repr__(self) -> str:
        return f"AnyOf{self.options!r}"


def _as_array(value: Any) -> np.ndarray | None:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if isinstance(value, (str, bytes, dict)) or value is None:
        return None
    try:
        a = np.asarray(value)
    except Exception:  # noqa: BLE001 - ragged or exotic objects are not arrays
        return None
    return a if a.dtype != object or a.size == 0 else None


@dataclasses.dataclass(frozen=True)
class Numbers(Constraint):
    """A list, tuple or 1-D array of finite numbers within the bounds, at least ``min_len`` long; with
    ``increasing`` strictly increasing; ``length`` fixes the count."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    min_len: int = 1
    length: int | None = None
    increasing: bool = False
    integers: bool = False

    def problem(self, value):
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, np.ndarray)):
            return ""
        items = list(np.asarray(value).ravel()) if isinstance(value, np.ndarray) else list(value)
        if self.length is not None and len(items) != self.length:
            return f"{len(items)} values"
        if len(items) < self.min_len:
            return "empty" if not items else f"{len(items)} values"
        check = Int(None, None) if self.integers else Float(finite=True)
        if any(check.problem(v) is not None for v in items):
            return "an entry is not " + ("an int" if self.integers else "a finite number")
        if not all(_in_range(float(v), self.low, self.high, self.low_open, self.high_open) for v in items):
            return "an entry is out of range"
        if self.increasing and any(b <= a for a, b in zip(items, items[1:])):
            return "not increasing"
        return None

    def describe(self):
        count = (f"{self.length} " if self.length is not None else
                 "a non-empty list of " if self.min_len == 1 else f"a list of at least {self.min_len} ")
        kind = "ints" if self.integers else "finite numbers"
        order = ", strictly increasing" if self.increasing else ""
        return count + kind + _range_text(self.low, self.high, self.low_open, self.high_open) + order


@dataclasses.dataclass(frozen=True)
class Array(Constraint):
    """A numeric array, tensor or nested list with at least one value, all finite."""

    def problem(self, value):
        a = _as_array(value)
        if a is None or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool) or a.ndim == 0:
            return ""
        if a.size == 0:
            return "empty"
        return None if np.isfinite(a.astype(np.float64)).all() else "contains NaN or inf"

    def describe(self):
        return "a non-empty array of finite numbers"


@dataclasses.dataclass(frozen=True)
class Table(Constraint):
    """Rows: a 2-D array, tensor or DataFrame with at least one row and no missing or infinite value."""

    def problem(self, value):
        if hasattr(value, "columns") and hasattr(value, "to_numpy"):
            if len(value) == 0:
                return "no rows"
            if value.isna().to_numpy().any():
                return "has missing values"
            numeric = value.select_dtypes("number").to_numpy(dtype=np.float64)
            return None if np.isfinite(numeric).all() else "contains inf"
        a = _as_array(value)
        if a is None:
            if isinstance(value, np.ndarray) and value.dtype == object and value.ndim >= 2:
                bad = [v is None or (isinstance(v, float) and math.isnan(v)) for v in value.ravel()]
                return "has missing values" if any(bad) else None
            return ""
        if a.ndim < 2 or len(a) == 0:
            return "no rows" if a.ndim >= 2 else f"{a.ndim}-D"
        return None if np.isfinite(a.astype(np.float64)).all() else "contains NaN or inf"

    def describe(self):
        return "rows (a 2-D array or DataFrame, at least one row, no missing values)"


class Instance(Constraint):
    """An object with all of ``attributes`` (duck typing), e.g. Explanations or a generator."""

    def __init__(self, what: str, *attributes: str, kind: type | None = None):
        self.what, self.attributes, self.kind = what, attributes, kind

    def problem(self, value):
        if self.kind is not None and not isinstance(value, self.kind):
            return ""
        return None if all(hasattr(value, a) for a in self.attributes) else ""

    def describe(self):
        return self.what

    def __repr__(self) -> str:
        return f"Instance({self.what!r})"


class Registered(Constraint):
    """The name of a registered explainer, metric or attack."""

    def __init__(self, kind: str):
        self.kind = kind

    def problem(self, value):
        from . import registry

        return None if isinstance(value, str) and value in registry.names(self.kind) else ""

    def describe(self):
        return f"the name of a registered {self.kind}"

    def __repr__(self) -> str:
        return f"Registered({self.kind!r})"


class Mapping(Constraint):
    """A dict with string keys."""

    def problem(self, value):
        return None if isinstance(value, dict) and all(isinstance(k, str) for k in value) else ""

    def describe(self):
        return "a dict of name -> value"


class Ordered(Constraint):
    """Two finite numbers (lo, hi) with lo < hi."""

    def problem(self, value):
        base = Numbers(length=2).problem(value)
        if base is not None:
            return base
        lo, hi = (float(v) for v in value)
        return None if lo < hi else "lo >= hi"

    def describe(self):
        return "a pair (lo, hi) of finite numbers with lo < hi"


class IntRange(Constraint):
    """A pair (lo, hi) of ints >= ``low`` with lo <= hi, e.g. an n-gram range (1, 2)."""

    def __init__(self, low: int = 1):
        self.low = low

    def problem(self, value):
        base = Numbers(length=2, integers=True, low=self.low).problem(value)
        if base is not None:
            return base
        lo, hi = (int(v) for v in value)
        return None if lo <= hi else "lo > hi"

    def describe(self):
        return f"a pair (lo, hi) of ints >= {self.low} with lo <= hi"

    def __repr__(self) -> str:
        return f"IntRange(low={self.low})"


class Names(Constraint):
    """A non-empty list or tuple of distinct non-empty strings (class names)."""

    def problem(self, value):
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v.strip() for v in value):
            return ""
        if not value:
            return "empty"
        return None if len(set(value)) == len(value) else "repeated names"

    def describe(self):
        return "a non-empty list of distinct non-empty strings"


class Anything(Constraint):
    """No constraint: for fields whose meaning is checked where they are used."""

    def problem(self, value):
        return None

    def describe(self):
        return "anything"


SEED = Int(low=0, high=2**32 - 1)


def param(default: Any, constraint: Constraint, **kw: Any) -> Any:
    """A dataclass field with ``default`` and a declared ``constraint``."""
    return dataclasses.field(default=default, metadata={CONSTRAINT: constraint}, **kw)


def _describe_value(value: Any) -> str:
    shape = getattr(value, "shape", None)
    if shape is not None and not np.isscalar(value) and getattr(value, "ndim", 0) > 0 and np.prod(shape) > 8:
        return f"{type(value).__name__} of shape {tuple(shape)}"
    text = " ".join(repr(value).split())
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def check(owner: str, name: str, value: Any, constraint: Constraint) -> None:
    """Raise an InputError naming ``owner`` and ``name`` when ``value`` breaks ``constraint``."""
    reason = constraint.problem(value)
    if reason is not None:
        why = f": {reason}" if reason else ""
        raise InputError(f"{owner}: {name} must be {constraint.describe()}; got {_describe_value(value)}{why}.")


def check_all(owner: str, checks: Iterable[tuple[str, Any, Constraint]]) -> None:
    """``check`` for each (name, value, constraint): the arguments of a function that is not a dataclass."""
    for name, value, constraint in checks:
        check(owner, name, value, constraint)


_FROM_TYPE: dict[Any, Constraint] = {int: Int(), float: Float(), bool: Bool(), str: Str()}


def _from_annotation(hint: Any) -> Constraint | None:
    if hint in _FROM_TYPE:
        return _FROM_TYPE[hint]
    args = typing.get_args(hint)
    if args and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1 and rest[0] in _FROM_TYPE:
            return Optional(_FROM_TYPE[rest[0]])
    return None


def constraints(cls: type) -> dict[str, Constraint | None]:
    """Field name -> its declared constraint, else one inferred from the annotation, else None; for a class that
    is not a dataclass, its ``param_rules``."""
    if not dataclasses.is_dataclass(cls):
        return dict(getattr(cls, "param_rules", {}))
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # noqa: BLE001 - unresolvable annotations: declared constraints only
        hints = {}
    out: dict[str, Constraint | None] = {}
    for f in dataclasses.fields(cls):
        declared = f.metadata.get(CONSTRAINT)
        out[f.name] = declared if declared is not None else _from_annotation(hints.get(f.name))
    return out


def declared(cls: type) -> dict[str, Constraint | None]:
    """Field name -> the constraint declared with ``param`` (None where the field has none)."""
    if not dataclasses.is_dataclass(cls):
        return dict(getattr(cls, "param_rules", {}))
    return {f.name: f.metadata.get(CONSTRAINT) for f in dataclasses.fields(cls)}


def validate(obj: Any, owner: str | None = None) -> None:
    """Check every field of the dataclass instance ``obj`` against its constraint."""
    who = owner or getattr(obj, "name", "") or type(obj).__name__
    for name, constraint in constraints(type(obj)).items():
        if constraint is not None:
            check(who, name, getattr(obj, name), constraint)

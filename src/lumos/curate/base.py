"""The repair interface: a repair takes a training split and a context and returns a ``Repaired`` (a new
training split, and/or per-row weights or probabilistic labels, with a record of what changed). Repairs are
registered by name (``@register("jtt")``) and built with ``get(name)(**params)``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Protocol

import numpy as np
import pandas as pd

from ..errors import InputError
from ..params import validate
from ..registry import REPAIRS
from ..results import Result

CHANGE_COLUMNS = ["change", "row", "new_row", "label", "new_label", "weight", "detail"]


@dataclass
class Repaired(Result):
    train: pd.DataFrame               # the new training split; the input frame is never modified
    sample_weight: np.ndarray | None  # (N,) per-row weights, or None
    label_probs: np.ndarray | None    # (N, K) probabilistic labels, or None
    changes: pd.DataFrame             # one row per added / removed / relabelled / reweighted example
    method: str
    params: dict

    def to_frame(self) -> pd.DataFrame:
        """The changes: change ("added", "removed", "relabelled", "reweighted"), row (in the input split; for
        an added row, the row it was made from), new_row (in ``train``; NaN when removed), label, new_label,
        weight, detail."""
        return self.changes.copy()

    def counts(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in self.changes["change"].value_counts().items()} if len(self.changes) else {}

    def summary(self) -> dict[str, Any]:
        """The method, the new split's size, how many rows each kind of change touched, the weights' range."""
        w = self.sample_weight
        return {"method": self.method, "rows": len(self.train), "changes": self.counts(),
                "weights": None if w is None else {"min": float(w.min()), "max": float(w.max()),
                                                   "mean": float(w.mean())},
                "label_probs": None if self.label_probs is None else int(self.label_probs.shape[1])}

    def describe(self) -> str:
        """One sentence: what the repair changed."""
        counts = ", ".join(f"{n:,} {change}" for change, n in sorted(self.counts().items())) or "nothing changed"
        extra = []
        if self.sample_weight is not None:
            w = self.sample_weight
            extra.append(f"weights from {w.min():.3g} to {w.max():.3g} (mean {w.mean():.3g})")
        if self.label_probs is not None:
            extra.append(f"probabilistic labels over {self.label_probs.shape[1]} classes")
        tail = f"; {'; '.join(extra)}" if extra else ""
        return f"{self.method}: {len(self.train):,} training rows; {counts}{tail}"

    def __repr__(self) -> str:
        return f"Repaired({self.describe()!r})"


@dataclass
class RepairContext:
    """What a repair may use besides the training split.

    ``model``: a lumos Model trained on the split (JTT's first model; the ensemble that vets generated
    examples). ``findings``: a discoverer's ranked ``Findings``; repairs that act on one artifact take
    ``artifact`` (a candidate key such as "kowalczyk" or "native_country = Atlantis"), else the top finding.
    ``groups``: (N,) a group id per training row (group-balanced weighting), when known.
    ``label_column``/``text_column``/``labels``: how to read the split (see ``lumos.artifacts.labelled``).
    ``validation``: held-out rows, for repairs that tune on them. ``seed``: every random choice.
    """

    model: Any = None
    findings: Any = None
    artifact: str | None = None
    artifact_kind: str | None = None
    groups: np.ndarray | None = None
    label_column: str = "label"
    text_column: str | None = None
    labels: tuple[str, ...] | None = None
    validation: pd.DataFrame | None = None
    seed: int = 0

    def target(self) -> tuple[str, str]:
        """(key, kind) of the artifact to repair: ``artifact`` if set, else the top finding."""
        if self.artifact is not None:
            if self.artifact_kind is not None:
                return self.artifact, self.artifact_kind
            found = _candidate(self.findings, self.artifact)
            kind = found.kind if found is not None else ("value" if " = " in self.artifact else "token")
            return self.artifact, kind
        if self.findings is None or not len(self.findings):
            raise InputError("this repair acts on one artifact: pass RepairContext(artifact='word') or the "
                             "findings of a discoverer (lumos.artifacts.statistics(train), ...).")
        top = self.findings[0]
        return top.key, top.kind

    def data(self, train: pd.DataFrame):
        from ..artifacts.data import labelled

        return labelled(train, self.label_column, self.text_column, self.labels, self.model, what="train")


def _candidate(findings: Any, key: str):
    for c in findings or []:
        if c.key == key:
            return c
    return None


class _Checked(type):
    """Building a repair with a keyword it does not have is an InputError listing the ones it has."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        known = [f.name for f in dataclasses.fields(cls)] if dataclasses.is_dataclass(cls) else []
        unknown = sorted(set(kwargs) - set(known))
        if unknown:
            raise InputError(f"{getattr(cls, 'name', cls.__name__)}: unknown parameter(s) {', '.join(unknown)}; it "
                             f"takes {', '.join(known) or 'none'}.")
        return super().__call__(*args, **kwargs)


class Declared(metaclass=_Checked):
    """Base of a repair dataclass: each field declares its rule with ``lumos.params.param``, checked on build (a
    bad value is an InputError naming the field; an unknown keyword one listing the known ones)."""

    def __post_init__(self) -> None:
        validate(self)


class Repair(Protocol):
    name: str

    def __call__(self, train: pd.DataFrame, context: RepairContext) -> Repaired: ...


def changes_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=CHANGE_COLUMNS)
    return frame.astype({"row": "Int64", "new_row": "Int64"})


def register(name: str) -> Callable[[Any], Any]:
    """Class decorator: make the repair class reachable as ``get(name)`` (the "repair" registry)."""
    return REPAIRS.register(name)


def get(name: str) -> type:
    """The repair class registered as ``name``; an unknown name names the closest and every known one."""
    return REPAIRS.get(name)


def names() -> list[str]:
    return REPAIRS.names()


def build(spec: Any) -> Repair:
    """A repair from a name, a (name, params) pair, or a repair object (returned as it is)."""
    if isinstance(spec, str):
        return get(spec)()
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str):
        cls = get(spec[0])
        try:
            return cls(**spec[1])
        except TypeError as e:
            raise InputError(f"bad parameters for repair {spec[0]!r}: {e}") from None
    if callable(spec) and hasattr(spec, "name"):
        return spec
    raise InputError(f"a repair is a registered name ({', '.join(names())}), a (name, params) pair or an object "
                     f"with .name and __call__(train, context); got {type(spec).__name__}.")

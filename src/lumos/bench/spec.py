"""What a bench run is: a model, its data, methods x metrics, a seed. The same spec means the same run id,
so re-running it resumes instead of starting over."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..params import CONSTRAINT, SEED, AnyOf, Bool, Choice, Constraint, Int, Str, param, validate

DEFAULT_DB = "lumos-runs/lumos.sqlite"


class Names(Constraint):
    """A non-empty list of non-empty names (a comma-separated string is split first)."""

    def problem(self, value):
        if not isinstance(value, (list, tuple)) or not value:
            return "" if not isinstance(value, (list, tuple)) else "empty"
        return None if all(isinstance(v, str) and v.strip() for v in value) else "an entry is not a name"

    def describe(self):
        return 'a non-empty list of names (or "all")'


class Tables(Constraint):
    """A TOML table of tables: name -> {parameter: value}."""

    def __init__(self, nested: bool = True):
        self.nested = nested

    def problem(self, value):
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            return ""
        if self.nested and not all(isinstance(v, dict) for v in value.values()):
            return "an entry is not a table"
        return None

    def describe(self):
        return "a table of name -> {parameter = value}" if self.nested else "a table of settings"


OPTIONAL = ("counterfactuals", "nle", "data")  # added after the first release: left out of run ids when empty


@dataclass(frozen=True)
class BenchSpec:
    """``model``: a zoo name or "package.module:function" returning (lumos Model, splits dict).
    ``n``: examples, drawn from ``seed`` with the classes in proportion; ``first=True`` takes the first ``n``
    rows of the split instead. ``seed`` also seeds every random method and metric.
    ``methods``/``metrics``: names or ["all"] (every one that applies to the model's modality).
    ``params``/``metric_params``: per-name keyword arguments. ``unit_size``: examples per unit of work.
    ``data``: a Parquet or CSV file of examples (columns as the model's splits: text, or the feature columns;
    optional label and rationale) read a slice at a time, in place of ``split``; ``n`` caps its rows.
    ``counterfactuals`` (tables only): when not empty, the report gains a counterfactual section for the first
    ``rows`` examples; its keys are ``rows`` (5) and any keyword of ``CounterfactualExplainer.explain`` (n,
    method, desired, constraints, budget, ...).
    ``nle`` (text only): when not empty, natural-language explanations run as methods "nle:<style>" beside the
    attribution methods; its keys are ``styles`` (["free"]), ``endpoint`` (an OpenAI-compatible URL; default:
    the local SmolLM2), ``endpoint_model`` and any keyword of ``lumos.nle.explain`` (k, max_new_tokens, ...)."""

    model: str = field(metadata={CONSTRAINT: Str()})
    split: str = param("test", Str())
    n: int = param(50, Int(low=1))
    first: bool = param(False, Bool())
    methods: tuple[str, ...] = param(("all",), Names())
    metrics: tuple[str, ...] = param(("all",), Names())
    seed: int = param(0, SEED)
    unit_size: int = param(10, Int(low=1))
    params: dict[str, dict[str, Any]] = field(default_factory=dict, metadata={CONSTRAINT: Tables()})
    metric_params: dict[str, dict[str, Any]] = field(default_factory=dict, metadata={CONSTRAINT: Tables()})
    counterfactuals: dict[str, Any] = field(default_factory=dict, metadata={CONSTRAINT: Tables(False)})
    nle: dict[str, Any] = field(default_factory=dict, metadata={CONSTRAINT: Tables(False)})
    data: str = param("", AnyOf(Choice(""), Str()))
    db: str = param(DEFAULT_DB, Str())

    def __post_init__(self) -> None:
        for name in ("methods", "metrics"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, tuple(v.strip() for v in value.split(",") if v.strip()))
            elif isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        validate(self, owner="bench spec")

    def run_id(self) -> str:
        """A stable id from everything that changes results (not the database path)."""
        # an empty optional part is left out, so specs written before it existed keep their run ids
        fields = {k: v for k, v in dataclasses.asdict(self).items()
                  if k != "db" and not (k in OPTIONAL and not v)}
        digest = hashlib.sha256(json.dumps(fields, sort_keys=True, default=repr).encode()).hexdigest()[:12]
        return f"{self.model.replace('/', '-').replace(':', '-')}-{digest}"

    def sections(self) -> dict[str, dict[str, Any]]:
        """Report sections the spec asks for (kind -> settings): a non-empty table named after a section kind
        that a bench can run (``counterfactuals``)."""
        return {kind: value for kind, value in (("counterfactuals", self.counterfactuals),) if value}

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_toml(cls, path: str | Path, **overrides: Any) -> "BenchSpec":
        """Fields at the top level; [params.METHOD] and [metric_params.METRIC] tables; flags override. Every
        field is checked (types, ranges, tables) before anything runs; errors name the file and the field."""
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise InputError(f"cannot read the bench spec {path}: {e}") from None
        given = {k: v for k, v in overrides.items() if v is not None}
        if not data and "model" not in given:
            raise InputError(f"the bench spec {path} is empty; it needs at least model = \"NAME\" (a zoo name or "
                             "package.module:function).")
        data.update(given)
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = set(data) - set(known)
        if unknown:
            raise InputError(f"unknown field(s) {sorted(unknown)} in {path}; known: {sorted(known)}.")
        if "model" not in data:
            raise InputError(f"the bench spec {path} has no model; add model = \"NAME\" (a zoo name or "
                             "package.module:function).")
        try:
            return cls(**data)
        except InputError as e:
            raise InputError(f"{path}: {e}") from None

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

DEFAULT_DB = "lumos-runs/lumos.sqlite"
OPTIONAL = ("counterfactuals", "nle", "data")  # added after the first release: left out of run ids when empty


@dataclass(frozen=True)
class BenchSpec:
    """``model``: a zoo name or "package.module:function" returning (lumos Model, splits dict).
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

    model: str
    split: str = "test"
    n: int = 50
    methods: tuple[str, ...] = ("all",)
    metrics: tuple[str, ...] = ("all",)
    seed: int = 0
    unit_size: int = 10
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    metric_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    counterfactuals: dict[str, Any] = field(default_factory=dict)
    nle: dict[str, Any] = field(default_factory=dict)
    data: str = ""
    db: str = DEFAULT_DB

    def __post_init__(self) -> None:
        if self.n < 1 or self.unit_size < 1:
            raise InputError(f"n and unit_size must be >= 1; got n={self.n}, unit_size={self.unit_size}.")
        for name in ("methods", "metrics"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, tuple(v.strip() for v in value.split(",") if v.strip()))

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
        """Fields at the top level; [params.METHOD] and [metric_params.METRIC] tables; flags override."""
        try:
            data = tomllib.loads(Path(path).read_text())
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise InputError(f"cannot read the bench spec {path}: {e}") from None
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise InputError(f"unknown field(s) {sorted(unknown)} in {path}; known: {sorted(known)}.")
        data.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("methods", "metrics"):
            if isinstance(data.get(key), list):
                data[key] = tuple(data[key])
        return cls(**data)

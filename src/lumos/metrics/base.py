"""The metric base and the evaluation context every metric reads from.

A metric is ONE file: a frozen dataclass of its parameters, metadata as class attributes, and ``compute``,
which returns one score per example (and optionally a dict of details). Model calls go through the same
maskers as the explainers (``lumos.features``), batched across examples and removal levels.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

import numpy as np

from ..explanation import Explanations
from ..features.masking import masked_probs
from ..features.removal import removable
from ..models.base import Batch, Model


@dataclass
class EvalContext:
    """What metrics see: the model, the prepared inputs, the explanations and a cache shared between metrics."""

    model: Model
    batch: Batch
    explanations: Explanations
    rationales: list[np.ndarray] | None = None
    seed: int = 0
    cache: dict[Any, Any] = field(default_factory=dict)
    # given by ``lumos.evaluate`` (the floor above), so metrics can explain again without importing the API:
    # run(model, explainer, inputs, targets, seed, granularity) -> Explanations, and the same by method name
    run: Callable[..., Explanations] | None = None
    explain_by_name: Callable[..., Explanations] | None = None

    @property
    def targets(self) -> np.ndarray:
        return self.explanations.targets

    @property
    def inputs(self) -> Any:
        """The raw inputs: images/table rows (B, ...) or the texts."""
        return self.batch.x if self.batch.x is not None else [d.text for d in self.batch.docs]  # type: ignore[union-attr]

    def reexplain(self, model: Model | None = None, inputs: Any = None, targets: np.ndarray | None = None
                  ) -> Explanations:
        """The explanations' own method run again, on another model (e.g. a randomised copy) or other inputs."""
        if self.explanations.explainer is None or self.run is None:
            from ..errors import InputError

            raise InputError("this metric re-runs the explanation method; pass Explanations made by lumos.explain.")
        return self.run(model or self.model, self.explanations.explainer, self.inputs if inputs is None else inputs,
                        self.targets if targets is None else targets, self.explanations.seed,
                        self.explanations.granularity)

    def explain(self, method: str, **params: Any) -> Explanations:
        """Another method's explanations of the same inputs and targets."""
        assert self.explain_by_name is not None, "EvalContext.explain_by_name is set by lumos.evaluate"
        return self.explain_by_name(self.model, self.inputs, method=method, target=self.targets, seed=self.seed,
                                    granularity=self.explanations.granularity, **params)

    def scores(self) -> list[np.ndarray]:
        """Per example one score per feature: text/tables the attributions (F,); images the channel-summed map
        flattened (H * W,)."""
        return [e.feature_scores() for e in self.explanations]

    def drops(self, masks: list[np.ndarray], baseline: object = None, background: object = None) -> list[np.ndarray]:
        """Keep-masks (S_i, F_i) over each example's features -> (S_i,) drops p(y|x) - p(y|masked x).

        p(y|x) is evaluated in the same batched stream (an all-kept row per example), so the drop is exact
        whatever the explanation's stored probabilities were (text: words deleted or masked; tables: columns
        set to the background).
        """
        items = removable(self.model, self.batch, baseline=baseline, background=background)
        full = [np.concatenate([np.ones((1, m.shape[1]), dtype=bool), m]) for m in masks]
        probs = masked_probs(self.model, items, full)
        return [p[0, t] - p[1:, t] for p, t in zip(probs, self.targets)]

    def leave_one_out(self, baseline: object = None, background: object = None) -> list[np.ndarray]:
        """(F_i,) p(y|x) - p(y|x without feature j), computed once per removal setting and shared."""
        key = ("loo", repr(baseline), id(background), tuple(self.targets.tolist()))
        if key not in self.cache:
            self.cache[key] = self.drops([~np.eye(len(s), dtype=bool) for s in self.scores()], baseline, background)
        return self.cache[key]


@dataclass(frozen=True)
class Metric:
    """Base of every metric; class attributes are its metadata (``lumos.metrics()`` shows them)."""

    name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    higher_is_better: ClassVar[bool] = True
    bounds: ClassVar[tuple[float, float]] = (-np.inf, np.inf)
    modalities: ClassVar[tuple[str, ...]] = ("text", "image", "tabular")
    requires: ClassVar[tuple[str, ...]] = ()  # model capabilities the metric needs (lumos.models.CAPABILITIES)
    # re-runs the explanation method (n times its cost): "all" in a bench takes it on gradient models only
    reexplains: ClassVar[bool] = False
    needs_rationales: ClassVar[bool] = False
    needs_reference: ClassVar[bool] = False  # scores against another method's explanations (``reference=``)
    # an example's score depends only on that example (False: a batch-level convention, e.g. ERASER sizing hard
    # rationales by the batch's mean human rationale length; the docstring says which)
    batch_invariant: ClassVar[bool] = True
    # informative only on generated (natural-language) explanations: bench runs with "all" metrics take it
    # only when they run some
    for_generated: ClassVar[bool] = False
    summary: ClassVar[str] = ""

    def compute(self, ctx: EvalContext) -> np.ndarray | tuple[np.ndarray, dict[str, Any]]:
        """(B,) one score per example, or that and a dict of details."""
        raise NotImplementedError

    @classmethod
    def applies_to(cls, model: Model, modality: str) -> bool:
        return modality in cls.modalities and model.can(*cls.requires)

    @classmethod
    def info(cls) -> dict[str, Any]:
        return {"summary": cls.summary, "modalities": cls.modalities,
                "params": {f.name: f.default for f in dataclasses.fields(cls)}, "requires": cls.requires,
                "family": cls.family, "higher_is_better": cls.higher_is_better, "bounds": cls.bounds,
                "needs_rationales": cls.needs_rationales, "needs_reference": cls.needs_reference,
                "batch_invariant": cls.batch_invariant, "reexplains": cls.reexplains,
                "for_generated": cls.for_generated}

    @classmethod
    def param_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

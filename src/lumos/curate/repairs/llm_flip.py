"""Counterfactual augmentation (b): minimal label-flipping edits of training texts that carry the artifact,
written by a language model (the local SmolLM2, or any ``lumos.nle`` generator such as an OpenAI-compatible
endpoint). An edit is kept only when a consistency check passes (it differs from the original, still carries
the artifact, changes at most ``max_change`` of the words) and the model ensemble, shown the edit with the
artifact masked out, agrees that the label flipped."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ...artifacts.edits import edit_for
from ...errors import InputError
from ...models import wrap
from ...params import CONSTRAINT, Anything, Float, Int, Str, param
from ..base import Declared, RepairContext, Repaired, changes_frame, register

TEMPLATE = ("Rewrite this text so that its label becomes \"{target}\" instead of \"{label}\". Change as few words "
            "as possible and keep the word \"{artifact}\".\n\nText: {text}\n\nRewritten text:")


def changed_share(before: str, after: str) -> float:
    """The share of words that differ (1 - difflib's ratio over the word sequences)."""
    return 1.0 - difflib.SequenceMatcher(a=before.lower().split(), b=after.lower().split()).ratio()


def clean_completion(text: str) -> str:
    """The first line of a completion, without quotes or a leading label such as 'Rewritten text:'."""
    line = next((l for l in text.strip().splitlines() if l.strip()), "").strip()
    for prefix in ("rewritten text:", "text:", "rewritten:"):
        if line.lower().startswith(prefix):
            line = line[len(prefix):].strip()
    return line.strip('"“”\' ')


@register("llm_flip")
@dataclass
class LLMFlip(Declared):
    """``generator``: a ``lumos.nle`` generator (None: SmolLM2 through ``LocalGenerator``). ``n``: carriers of
    the artifact's own label to edit. ``ensemble``: models that vote on the flip (default: ``context.model``);
    each sees the edit with the artifact removed, and the majority must give the target label (and the
    original label on the masked original). ``template``: the prompt, with {text}, {label}, {target},
    {artifact}."""

    summary = "Minimal label-flipping rewrites by a language model, kept when consistent and the ensemble agrees."
    modalities = ("text",)

    generator: Any = param(None, Anything())
    n: int = param(200, Int(low=1))
    max_change: float = param(0.5, Float(0, 1, low_open=True))
    max_new_tokens: int = param(80, Int(low=1))
    ensemble: list = field(default_factory=list, metadata={CONSTRAINT: Anything()})
    template: str = param(TEMPLATE, Str())

    def __call__(self, train: pd.DataFrame, context: RepairContext) -> Repaired:
        d = context.data(train)
        if not d.is_text:
            raise InputError("llm_flip edits texts; for tables use 'table_counterfactuals'.")
        voters = [wrap(m) for m in (self.ensemble or ([context.model] if context.model is not None else []))]
        if not voters:
            raise InputError("llm_flip needs models to vet the edits: RepairContext(model=...) or ensemble=[...].")
        key, kind = context.target()
        edit = edit_for(key, kind, d)
        present = edit.present(train)
        if not present.any():
            raise InputError(f"the artifact {key!r} occurs in no training row; nothing to flip.")
        label = int(np.bincount(d.y[present], minlength=len(d.labels)).argmax())
        target = 1 - label if len(d.labels) == 2 else int(np.bincount(d.y, minlength=len(d.labels))[
            [k for k in range(len(d.labels)) if k != label]].argmax())
        rng = np.random.default_rng(context.seed)
        own = np.flatnonzero(present & (d.y == label))
        picked = np.sort(rng.choice(own, size=min(self.n, len(own)), replace=False))
        generator = self.generator
        if generator is None:
            from ...nle import LocalGenerator

            generator = LocalGenerator()
        texts = [d.texts[i] for i in picked]
        prompts = [[{"role": "user", "content": self.template.format(
            text=t, label=d.label_name(label), target=d.label_name(target), artifact=key)}] for t in texts]
        edits = [clean_completion(c.text) for c in generator.generate(prompts, max_new_tokens=self.max_new_tokens,
                                                                      seed=context.seed)]
        consistent = np.array([bool(e) and e.strip().lower() != t.strip().lower()
                               and changed_share(t, e) <= self.max_change for t, e in zip(texts, edits)])
        carries = edit.present(pd.DataFrame({d.text_column: edits}))

        def masked(items: list[str]) -> list[str]:
            frame = pd.DataFrame({d.text_column: items})
            return edit.remove(frame, np.ones(len(items), bool), rng)[d.text_column].tolist()

        votes_new = np.mean([m.predict_proba(masked(edits)).argmax(1) == target for m in voters], axis=0)
        votes_old = np.mean([m.predict_proba(masked(texts)).argmax(1) == label for m in voters], axis=0)
        keep = consistent & carries & (votes_new > 0.5) & (votes_old > 0.5)
        kept = np.flatnonzero(keep)
        added = train.reset_index(drop=True).iloc[picked[kept]].copy()
        added[d.text_column] = [edits[i] for i in kept]
        added[d.label_column] = target
        new = pd.concat([train.reset_index(drop=True), added.reset_index(drop=True)], ignore_index=True)
        rows = [{"change": "added", "row": int(picked[i]), "new_row": len(train) + j, "label": label,
                 "new_label": target, "weight": 1.0, "detail": edits[i]} for j, i in enumerate(kept)]
        params = {"artifact": key, "label": d.label_name(label), "target": d.label_name(target),
                  "generator": getattr(generator, "name", type(generator).__name__), "asked": int(len(picked)),
                  "consistent": int((consistent & carries).sum()), "kept": int(len(kept)),
                  "voters": len(voters), "max_change": self.max_change, "seed": context.seed}
        return Repaired(new, None, None, changes_frame(rows), "llm_flip", params)

"""LFs that ask a model: a lumos model's probabilities (threshold), or a prompted generative LM."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from .lf import LabelingFunction, texts_of
from .matrix import ABSTAIN

LABEL_PROMPT = Path(__file__).parent / "prompts" / "label.txt"


def model_lf(model: Any, *, margin: float = 0.2, classes: Sequence[Any] | None = None, name: str = "model",
             column: str = "text") -> LabelingFunction:
    """Votes the class ``model`` finds most probable when it leads the runner-up by at least ``margin``
    (0..1), else abstains. ``model``: anything ``lumos.wrap`` takes (text models get ``column`` of a row;
    table models the rows). ``classes``: the vote for each of the model's classes (default: its index).
    Batched: each batch is one ``predict_proba`` call."""
    from ..models import wrap

    wrapped = wrap(model)
    if not 0 <= margin < 1:
        raise InputError(f"margin must be in [0, 1); got {margin}.")

    def votes(batch: Any) -> list[Any]:
        if "text" in wrapped.modalities:
            inputs: Any = texts_of(batch, column)
        else:
            inputs = batch if isinstance(batch, pd.DataFrame) else pd.DataFrame(list(batch))
        probs = wrapped.predict_proba(inputs)
        top2 = np.sort(probs, axis=1)[:, -2:]
        best = probs.argmax(1)
        if classes is not None and len(classes) != probs.shape[1]:
            raise InputError(f"classes has {len(classes)} entries but the model gives {probs.shape[1]} classes.")
        vote = [classes[k] if classes is not None else int(k) for k in best]
        return [v if (t[1] - t[0]) >= margin else ABSTAIN for v, t in zip(vote, top2)]

    return LabelingFunction(name, votes, True, "model", {"model": type(wrapped).__name__, "margin": margin})


def llm_lf(labels: Sequence[str], generator: Any = None, *, template: str | Path | None = None,
           name: str = "llm", column: str = "text", max_new_tokens: int = 4, temperature: float = 0.0,
           seed: int = 0) -> LabelingFunction:
    """Asks a generative LM which of ``labels`` fits each text and votes the label its answer names first
    (abstains when it names none). ``generator``: a ``lumos.nle`` generator (default: the local SmolLM2,
    loaded on first use) or ``nle.EndpointGenerator(url)``. ``template``: a prompt with ``{text}`` and
    ``{labels}`` (default ``weak/prompts/label.txt``). Batched: each batch is one ``generate`` call, and long
    texts are cut to fit the generator's context as in ``lumos.nle``."""
    from ..nle.labels import find_label
    from ..nle.prompts import fit, join_labels, load_template

    labels = [str(l) for l in labels]
    text_template = load_template(template or LABEL_PROMPT)
    state: dict[str, Any] = {"generator": generator}

    def votes(batch: Any) -> list[Any]:
        if state["generator"] is None:
            from ..nle.local import LocalGenerator

            state["generator"] = LocalGenerator()
        gen = state["generator"]
        fields = {"labels": join_labels(labels), "label": "", "words": "", "explanation": ""}
        prompts = [fit(text_template, t, fields, gen, max_new_tokens).messages for t in texts_of(batch, column)]
        answers = gen.generate(prompts, max_new_tokens, temperature, seed)
        found = [find_label(a.text, labels) for a in answers]
        return [labels[k] if k is not None else ABSTAIN for k in found]

    return LabelingFunction(name, votes, True, "llm", {"labels": labels, "template": str(template or "label"),
                                                        "max_new_tokens": max_new_tokens})

"""All NLE faithfulness scores of a batch in one call, with agreement against several attribution methods."""

from __future__ import annotations

from typing import Any, Sequence

from ..evaluation import Scores, evaluate
from ..explanation import Explanations
from ..models import wrap


def faithfulness(classifier: Any, inputs: Sequence[str], explanations: Explanations,
                 methods: Sequence[str] = ("occlusion", "integrated_gradients"), simulator: Any = "rule",
                 n_samples: int = 100, seed: int = 0) -> Scores:
    """``Scores`` with "nle_counterfactual", "simulatability" and one "citation_agreement[<method>]" per
    method (its top words against the cited ones); ``.mean()`` gives the averages, ``.details`` the rest."""
    model = wrap(classifier)
    cache: dict = {}  # leave-one-out, shared by the counterfactual test and occlusion's agreement
    out = evaluate(model, inputs, explanations, metrics=[("nle_counterfactual", {"n_samples": n_samples}),
                                                         ("simulatability", {"simulator": simulator})],
                   seed=seed, cache=cache)
    for method in methods:
        one = evaluate(model, inputs, explanations, metrics=[("citation_agreement", {"method": method})], seed=seed,
                       cache=cache)
        key = f"citation_agreement[{method}]"
        out[key], out.details[key], out.info[key] = (one["citation_agreement"], one.details["citation_agreement"],
                                                     one.info["citation_agreement"])
    return out

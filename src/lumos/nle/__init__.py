"""Natural-language explanations (NLE) of a classifier's predictions, written by a generative model.

``explain`` asks a generator (a local Hugging Face causal LM, SmolLM2 by default, or any OpenAI-compatible
chat endpoint) to explain each prediction and matches the words it cites back to the input; the result is
``lumos.Explanations`` that ``lumos.evaluate`` scores with the NLE metrics (``nle_counterfactual``,
``citation_agreement``, ``simulatability``) beside the usual faithfulness metrics. ``serve`` exposes a local
generator over an OpenAI-compatible HTTP API. ``lumos.bench.add_section(db, run_id, "nle", explanations,
inputs=texts, scores=scores)`` puts the results in the HTML report.
"""

from .choose import generator_for
from .citations import cite
from .endpoint import EndpointGenerator
from .explain import explain, from_texts
from .faithfulness import faithfulness
from .generator import Completion, Generator
from .labels import find_label
from .local import LocalGenerator
from .prompts import STYLES, load_template, template_path
from .server import ChatServer, serve

__all__ = ["explain", "from_texts", "faithfulness", "cite", "find_label", "LocalGenerator", "EndpointGenerator",
           "Generator", "Completion", "serve", "ChatServer", "STYLES", "load_template", "template_path",
           "generator_for", "add_to_report"]


def add_to_report(db: str, run_id: str, inputs, explanations, scores=None, title: str = "Natural-language explanations",
                  labels=None) -> None:
    """Deprecated: use ``lumos.bench.add_section(db, run_id, "nle", explanations, inputs=..., scores=...)``."""
    import importlib
    import warnings

    warnings.warn("lumos.nle.add_to_report is deprecated; use lumos.bench.add_section(db, run_id, 'nle', "
                  "explanations, inputs=inputs, scores=scores)", DeprecationWarning, stacklevel=2)
    sections = importlib.import_module("lumos.bench.sections")  # the report floor is above this one
    sections.add_section(db, run_id, "nle", explanations, title=title, model_name="nle", modality="text",
                         labels=labels, seed=explanations.seed, inputs=inputs, scores=scores)

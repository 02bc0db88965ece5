"""Natural-language explanations (NLE) of a classifier's predictions, written by a generative model.

``explain`` asks a generator (a local Hugging Face causal LM, SmolLM2 by default, or any OpenAI-compatible
chat endpoint) to explain each prediction and matches the words it cites back to the input; the result is
``lumos.Explanations`` that ``lumos.evaluate`` scores with the NLE metrics (``nle_counterfactual``,
``citation_agreement``, ``simulatability``) beside the usual faithfulness metrics. ``serve`` exposes a local
generator over an OpenAI-compatible HTTP API; ``add_to_report`` puts the results in the HTML
report.
"""

from .citations import cite
from .endpoint import EndpointGenerator
from .explain import explain, from_texts
from .faithfulness import faithfulness
from .generator import Completion, Generator
from .labels import find_label
from .local import LocalGenerator
from .prompts import STYLES, load_template, template_path
from .report import add_to_report
from .server import ChatServer, serve

__all__ = ["explain", "from_texts", "faithfulness", "cite", "find_label", "LocalGenerator", "EndpointGenerator",
           "Generator", "Completion", "serve", "ChatServer", "STYLES", "load_template", "template_path",
           "add_to_report"]

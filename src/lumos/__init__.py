"""lumos: explain, evaluate and stress-test classifiers on text, images and tables."""

from . import eraser
from .agreement import agreement
from .api import explain, methods
from .counterfactuals import counterfactuals
from .evaluation import Scores, evaluate
from .evaluation import metrics_info as metrics
from .errors import InputError, LumosError, ModelError, UnsupportedError
from .explanation import Explanation, Explanations
from .influence import influence
from .models import Model, wrap
from . import robustness

__all__ = ["explain", "robustness", "methods", "counterfactuals", "evaluate", "influence", "metrics", "agreement", "Scores", "wrap", "Model", "Explanation", "Explanations", "LumosError", "InputError",
           "ModelError", "UnsupportedError"]
__version__ = "0.1.0"


def __getattr__(name: str):
    """``lumos.zoo``, ``lumos.bench``, ``lumos.report`` and ``lumos.nle`` import on first use (they pull in more)."""
    if name in ("zoo", "bench", "report", "nle"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'lumos' has no attribute {name!r}")

"""lumos: explain, evaluate and stress-test classifiers on text, images and tables.

The public face: verbs at the top (``wrap``, ``explain``, ``evaluate``, ``agreement``, ``catalog``), and a
namespace per analysis (``lumos.influence``, ``lumos.counterfactuals``, ``lumos.robustness``, ``lumos.nle``;
``lumos.artifacts`` and ``lumos.curate`` find and repair dataset artifacts, ``lumos.weak`` labels data with
labeling functions; ``lumos.zoo``, ``lumos.training`` (``lumos.train``), ``lumos.bench``, ``lumos.report`` and
``lumos.plot`` import on first use).
See docs/design.md.
"""

from . import counterfactuals, eraser, influence, metrics, robustness
from .api import explain, methods
from .comparison import Agreement, agreement
from .errors import InputError, LumosError, LumosWarning, ModelError, UnsupportedError
from .evaluation import Scores, evaluate
from .explanation import Explanation, Explanations
from .models import Model, wrap
from .registry import describe as catalog
from .registry import register
from .version import __version__

__all__ = ["wrap", "explain", "evaluate", "agreement", "catalog", "methods", "register", "train", "influence",
           "counterfactuals", "robustness", "metrics", "eraser", "Model", "Explanation", "Explanations", "Scores",
           "Agreement", "LumosError", "LumosWarning", "InputError", "ModelError", "UnsupportedError", "__version__"]


def __getattr__(name: str):
    """``lumos.zoo``, ``lumos.training``, ``lumos.bench``, ``lumos.report``, ``lumos.nle``, ``lumos.testing``,
    ``lumos.plot``, ``lumos.artifacts``, ``lumos.curate`` and ``lumos.weak`` import on first use (they pull in
    more), and so does ``lumos.train`` (``lumos.training.train``)."""
    import importlib

    if name in ("zoo", "training", "bench", "report", "nle", "testing", "viz", "plot", "progress", "artifacts",
                "curate", "weak"):
        return importlib.import_module(f".{name}", __name__)
    if name == "train":
        return importlib.import_module(".training", __name__).train
    raise AttributeError(f"module 'lumos' has no attribute {name!r}")

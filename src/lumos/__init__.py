"""lumos: explain, evaluate and stress-test classifiers on text, images and tables."""

from . import eraser
from .agreement import agreement
from .api import explain, methods
from .evaluation import Scores, evaluate
from .evaluation import metrics_info as metrics
from .errors import InputError, LumosError, ModelError, UnsupportedError
from .explanation import Explanation, Explanations
from .models import Model, wrap

__all__ = ["explain", "methods", "evaluate", "metrics", "agreement", "Scores", "wrap", "Model", "Explanation", "Explanations", "LumosError", "InputError",
           "ModelError", "UnsupportedError"]
__version__ = "0.1.0"

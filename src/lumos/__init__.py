"""lumos: explain, evaluate and stress-test classifiers on text, images and tables."""

from .api import explain, methods
from .errors import InputError, LumosError, ModelError, UnsupportedError
from .explanation import Explanation, Explanations
from .models import Model, wrap

__all__ = ["explain", "methods", "wrap", "Model", "Explanation", "Explanations", "LumosError", "InputError",
           "ModelError", "UnsupportedError"]
__version__ = "0.1.0"

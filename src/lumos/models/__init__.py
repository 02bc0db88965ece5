"""Model adapters; ``wrap`` picks one for whatever the user has."""

from __future__ import annotations

from typing import Any

from ..errors import ModelError
from .base import CAPABILITIES, Batch, Model
from .function import CallableModel
from .huggingface import HuggingFaceTextModel
from .sklearn import SklearnModel
from .torch_module import TorchModel

__all__ = ["Batch", "Model", "wrap", "CAPABILITIES"]


def wrap(obj: Any, tokenizer: Any = None, **kw: Any) -> Model:
    """A lumos Model for an nn.Module (logits), (HF model, tokenizer), an HF pipeline, a scikit-learn
    estimator with predict_proba, or a callable batch -> probabilities.

    Keywords: ``labels``, ``batch_size`` (an int or "auto"), ``device``, ``max_length`` (text),
    ``output`` ("probabilities" or "logits", callables only).
    """
    if isinstance(obj, Model):
        return obj
    if isinstance(obj, tuple) and len(obj) == 2 and tokenizer is None:
        obj, tokenizer = obj
    if tokenizer is None and hasattr(obj, "tokenizer") and hasattr(obj, "model") and hasattr(obj, "task"):
        obj, tokenizer = obj.model, obj.tokenizer  # a transformers pipeline
    if tokenizer is not None:
        if not hasattr(obj, "get_input_embeddings"):
            raise ModelError(f"expected a Hugging Face model with a tokenizer; got {type(obj).__name__}.")
        return HuggingFaceTextModel(obj, tokenizer, **kw)
    try:
        import torch

        if isinstance(obj, torch.nn.Module):
            if hasattr(obj, "get_input_embeddings") and hasattr(obj, "config"):
                raise ModelError("a Hugging Face text model needs its tokenizer: lumos.wrap((model, tokenizer)).")
            return TorchModel(obj, **kw)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    if hasattr(obj, "predict_proba"):
        return SklearnModel(obj, **kw)
    if callable(obj):
        return CallableModel(obj, **kw)
    raise ModelError(f"cannot wrap {type(obj).__name__}: pass an nn.Module returning logits, (HF model, tokenizer), "
                     "a scikit-learn estimator with predict_proba, or a callable batch -> probabilities.")

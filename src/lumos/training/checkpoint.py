"""Checking that a folder is a Hugging Face model a text recipe can fine-tune, before anything loads it."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError

WEIGHTS = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json", "pytorch_model.bin.index.json")
TOKENIZER = ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "spiece.model", "vocab.json",
             "sentencepiece.bpe.model")


def check_checkpoint(path: str | Path) -> Path:
    """The checkpoint folder (absolute), after checking it holds a config with a model type, weights that
    PyTorch reads and a tokenizer; nothing is downloaded."""
    folder = Path(path).expanduser().resolve()
    fix = ("Pass the folder that save_pretrained wrote (config.json, model.safetensors or pytorch_model.bin, and "
           "the tokenizer files), or base='minilm'.")
    if not folder.exists():
        raise InputError(f"no such checkpoint folder: {folder}. {fix}")
    if folder.is_file():
        raise InputError(f"{folder} is a file, not a model folder. {fix}")
    config = folder / "config.json"
    if not config.is_file():
        raise InputError(f"{folder} is not a Hugging Face model: it has no config.json. {fix}")
    try:
        model_type = json.loads(config.read_text()).get("model_type")
    except (ValueError, AttributeError) as e:
        raise InputError(f"{config} is not a model configuration ({e}). {fix}") from None
    if not model_type:
        raise InputError(f"{config} names no model_type, so it is not a model configuration. {fix}")
    if not any((folder / w).is_file() for w in WEIGHTS):
        found = "tf_model.h5 (TensorFlow) only" if (folder / "tf_model.h5").is_file() else "none"
        raise InputError(f"{folder} holds no PyTorch weights ({', '.join(WEIGHTS[:2])}); found {found}. {fix}")
    if not any((folder / t).is_file() for t in TOKENIZER):
        raise InputError(f"{folder} holds no tokenizer files ({', '.join(TOKENIZER[:3])}, ...); save the tokenizer "
                         f"into the same folder (tokenizer.save_pretrained). {fix}")
    return folder

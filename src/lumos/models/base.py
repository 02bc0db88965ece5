"""The Model adapter interface: validated inputs in, batched probabilities out, counted.

Every adapter owns batching (``BatchSizer``), device, eval mode and no-grad. Every model gives ``prepare``,
``evaluate``, ``predict_proba`` and ``session``; what a model can do beyond that it declares in
``capabilities`` (see ``CAPABILITIES``), and plug-ins declare what they need of a model in ``requires``, so
nothing above this floor probes attributes or reaches into private members.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
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
    """"text" (a string, or a list, tuple, array or Series of strings), "image" (B, C, H, W) or "tabular";
    no inputs at all (None, an empty list or array) is an InputError that says so."""
    if inputs is None:
        raise InputError("no inputs: got None. Pass a list of strings, an array (B, C, H, W) or an array/DataFrame "
                         "(B, F).")
    if isinstance(inputs, str) or is_text_sequence(inputs):
        return "text"
    if isinstance(inputs, (list, tuple)) and any(isinstance(x, (bytes, bytearray)) for x in inputs):
        raise InputError("text inputs must be str; got bytes. Decode them first, e.g. [b.decode('utf-8') for b in "
                         "texts].")
    if hasattr(inputs, "__len__") and not hasattr(inputs, "columns") and len(inputs) == 0:  # type: ignore[arg-type]
        raise InputError(f"no inputs: got an empty {type(inputs).__name__}. Pass at least one example.")
    if hasattr(inputs, "columns"):
        if len(inputs) == 0:  # type: ignore[arg-type]
            raise InputError("no inputs: got a DataFrame with no rows. Pass at least one example.")
        return "tabular"
    if isinstance(inputs, (list, tuple)) and all(x is None for x in inputs):
        raise InputError(f"no inputs: got {len(inputs)} None values. Pass a list of strings, an array or a table.")
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


def is_text_sequence(inputs: object) -> bool:
    """A list, tuple, 1-D array or Series whose first non-missing item is a string."""
    if hasattr(inputs, "dtype") and getattr(inputs, "ndim", 1) == 1 and len(inputs) > 0:  # type: ignore[arg-type]
        kind = getattr(inputs.dtype, "kind", "")  # type: ignore[union-attr]
        if kind in "US" and kind:
            return True
        if kind == "O" or str(inputs.dtype) in ("string", "str"):  # type: ignore[union-attr]
            first = next((x for x in list(inputs) if x is not None and x == x), None)  # type: ignore[call-overload]
            return isinstance(first, str)
        return False
    if isinstance(inputs, (list, tuple)) and inputs:
        first = next((x for x in inputs if x is not None), None)
        return isinstance(first, str)
    return False


@dataclass
class CallCounter:
    rows: int = 0
    forwards: int = 0


class Model:
    """Base adapter. Subclasses implement ``_probs(rows)`` for one batch and, if they can, ``gradient_space``."""

    modalities: tuple[str, ...] = ()
    capabilities: frozenset[str] = frozenset()  # see CAPABILITIES
    output_hint: str = ""  # appended to the error when outputs are not probabilities
    training_checkpoints: Any = None  # zoo models trained here: TracIn checkpoints (lumos.zoo.checkpoints)

    def __init__(self, labels: Sequence[str] | None = None, batch_size: int | str = "auto"):
        from ..params import AnyOf, Choice, Int, check

        check(f"wrap({type(self).__name__})", "batch_size", batch_size, AnyOf(Choice("auto"), Int(low=1)))
        if labels is not None and (isinstance(labels, str) or len(labels) == 0
                                   or len(set(map(str, labels))) != len(labels)):
            raise InputError(f"labels must be a list of distinct class names, one per class; got {labels!r}.")
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

    def weights_hash(self) -> str | None:
        """sha256 of what defines the model's outputs (parameters, a fitted estimator, preprocessing), for
        telling two models apart; None when the adapter cannot read them (a callable)."""
        return None

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
        """Every model output enters lumos here: (N, K) rows of finite probabilities, or a ModelError."""
        p = check_probabilities(self._probs(rows), len(rows), self.output_hint)
        if self._labels is None:
            self._labels = [str(k) for k in range(p.shape[1])]
        elif p.shape[1] != len(self._labels):
            raise ModelError(f"the model returned {p.shape[1]} classes but {len(self._labels)} labels were given "
                             f"({self._labels}).")
        return p

    def reset_counts(self) -> None:
        self.counts = CallCounter()


def check_probabilities(out: Any, n: int, hint: str = "") -> np.ndarray:
    """A model's output for ``n`` rows -> (n, K) float64 probabilities; one value per row is p(class 1) of a
    binary model. NaN/inf, values outside [0, 1] or rows not summing to 1 raise a ModelError that names the
    first bad row."""
    if hasattr(out, "detach"):
        out = out.detach().cpu().numpy()
    try:
        p = np.asarray(out, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ModelError(f"the model returned {type(out).__name__} that is not an array of numbers ({e}).") from None
    if p.ndim == 1 and len(p) == n:
        bad = ~np.isfinite(p) | (p < -1e-6) | (p > 1 + 1e-6)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ModelError(f"the model returned one value per row, read as p(class 1), and row {i} has "
                             f"{float(p[i])!r}, not a probability in [0, 1]. Return (N, n_classes) "
                             f"probabilities{hint}.")
        p = np.clip(p, 0.0, 1.0)
        return np.stack([1 - p, p], axis=1)
    if p.ndim != 2 or p.shape[0] != n:
        raise ModelError(f"the model returned shape {p.shape} for {n} rows; expected (N, n_classes).")
    if p.shape[1] == 0:
        raise ModelError(f"the model returned no class column (shape {p.shape}); expected (N, n_classes).")
    finite = np.isfinite(p).all(1)
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        raise ModelError(f"the model returned NaN or inf for {int((~finite).sum())} of {n} rows, first row {i}: "
                         f"{p[i][:5].tolist()}; lumos cannot explain such outputs.")
    sums = p.sum(1)
    bad = (p.min(1) < -1e-6) | (p.max(1) > 1 + 1e-6) | (np.abs(sums - 1) > 1e-3)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ModelError(f"the model must return probabilities (each row in [0, 1], summing to 1); row {i} is "
                         f"{np.round(p[i][:5], 4).tolist()} (sum {sums[i]:.4g}){hint}.")
    return np.clip(p, 0.0, 1.0)


def state_hash(module: Any) -> str:
    """sha256 over a torch module's parameters and buffers (names, dtypes, shapes and bytes, in order)."""
    import hashlib

    import torch

    h = hashlib.sha256()
    for name, t in module.state_dict().items():
        t = t.detach().cpu().contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


# attributes an estimator caches as it runs, which are not what it computes: scikit-learn's vectorizers keep
# the id() of their stop-word list after the first transform, a memory address that differs in every process
VOLATILE_STATE = frozenset({"_stop_words_id"})


def _estimator_state(name: str, state: dict) -> None:
    """Stands in for an estimator in ``pickle_hash``'s stream (never called: the stream is hashed, not loaded)."""


def pickle_hash(*objects: Any) -> str:
    """sha256 of the pickled objects (a fitted scikit-learn estimator, a preprocessor), leaving out the state
    an estimator caches while predicting (``VOLATILE_STATE``), so the hash is the same before and after use and
    in every process."""
    import hashlib
    import io
    import pickle

    class Pickler(pickle.Pickler):
        def reducer_override(self, obj: Any) -> Any:
            if isinstance(obj, type) or not callable(getattr(obj, "get_params", None)):
                return NotImplemented  # not a scikit-learn-style estimator: pickled as usual
            state = obj.__getstate__() if hasattr(obj, "__getstate__") else getattr(obj, "__dict__", None)
            if not isinstance(state, dict):
                return NotImplemented
            kept = {k: v for k, v in state.items() if k not in VOLATILE_STATE}
            return _estimator_state, (f"{type(obj).__module__}.{type(obj).__qualname__}", kept)

    stream = io.BytesIO()
    Pickler(stream, protocol=4).dump(objects)
    return hashlib.sha256(stream.getvalue()).hexdigest()


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

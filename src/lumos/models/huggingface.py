"""Adapter for Hugging Face sequence classifiers: (model, tokenizer) or a text-classification pipeline.

Rows are token-id arrays (special tokens included); batches are sorted by length and padded per chunk, so a
short sentence never pays for a long one. Gradients are taken with respect to the input embeddings.
"""

from __future__ import annotations

import contextlib
from typing import Iterator, Sequence

import numpy as np
import torch

from ..errors import InputError, ModelError
from ..features.text import Granularity, TextDoc, token_doc
from .base import Batch, Model
from .gradients import GradientSpace
from .torch_module import eval_mode


class HuggingFaceTextModel(Model):
    modalities = ("text",)
    capabilities = frozenset({"gradients", "network", "randomisable", "token_embeddings", "attention"})

    def __init__(self, model, tokenizer, labels: Sequence[str] | None = None, batch_size: int | str = "auto",
                 max_length: int | None = None, device: str | torch.device | None = None):
        if labels is None and getattr(model.config, "id2label", None):
            labels = [model.config.id2label[i] for i in range(len(model.config.id2label))]
        super().__init__(labels, batch_size)
        if not getattr(tokenizer, "is_fast", False):
            raise ModelError("lumos needs a fast (Rust) tokenizer for character offsets; load it with "
                             "AutoTokenizer.from_pretrained(path, use_fast=True).")
        self.model = model
        self.tokenizer = tokenizer
        limits = [v for v in (getattr(tokenizer, "model_max_length", None),
                              getattr(model.config, "max_position_embeddings", None)) if v and v < 10**6]
        self.max_length = int(max_length or (min(limits) if limits else 512))
        self.device = torch.device(device) if device is not None else next(model.parameters()).device
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self.mask_id = tokenizer.mask_token_id

    # ----- inputs ------------------------------------------------------------------------------------
    def _text_docs(self, texts: list[str], granularity: Granularity) -> list[TextDoc]:
        enc = self.tokenizer(texts, truncation=True, max_length=self.max_length, return_offsets_mapping=True,
                             return_special_tokens_mask=True)
        full_lengths = [len(ids) for ids in self.tokenizer(texts, truncation=False)["input_ids"]]
        docs = []
        for i, text in enumerate(texts):
            ids = enc["input_ids"][i]
            doc = token_doc(text, ids, enc["offset_mapping"][i], enc["special_tokens_mask"][i],
                            self.tokenizer.convert_ids_to_tokens(ids), granularity,
                            truncated=full_lengths[i] > len(ids))
            if doc.n_features == 0:
                raise InputError(f"text input {i} ({text!r}) has no tokens left after tokenization.")
            docs.append(doc)
        return docs

    @property
    def network(self):
        """The torch module whose parameters define the model (what MPRT randomises)."""
        return self.model

    def with_network(self, model) -> "HuggingFaceTextModel":
        """The same adapter around another model with the same tokenizer (e.g. a randomised copy)."""
        return HuggingFaceTextModel(model, self.tokenizer, self.labels, self.sizer.batch_size, self.max_length,
                                    self.device)

    def network_inputs(self, inputs: object) -> list[list[int]]:
        return [d.ids for d in self.prepare(inputs).docs]  # type: ignore[union-attr]

    def input_embeddings(self) -> torch.nn.Module:
        return self.model.get_input_embeddings()

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        with eval_mode(self.model):
            yield

    # ----- forward -----------------------------------------------------------------------------------
    def tokenize(self, rows: Sequence) -> tuple[torch.Tensor, torch.Tensor]:
        if isinstance(rows[0], str):
            rows = self.tokenizer(list(rows), truncation=True, max_length=self.max_length)["input_ids"]
        n = max(len(r) for r in rows)
        ids = np.full((len(rows), n), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), n), dtype=np.int64)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = r
            mask[i, :len(r)] = 1
        return torch.from_numpy(ids).to(self.device), torch.from_numpy(mask).to(self.device)

    def _logits(self, **kw) -> torch.Tensor:
        try:
            return self.model(**kw).logits
        except RuntimeError as e:
            raise ModelError(f"the model failed: {str(e).splitlines()[0]}") from e

    def _probs(self, rows: Sequence) -> np.ndarray:
        ids, mask = self.tokenize(rows)
        with torch.inference_mode():
            return torch.softmax(self._logits(input_ids=ids, attention_mask=mask).float(), 1).cpu().numpy()

    def evaluate(self, rows) -> np.ndarray:
        """Sort rows by length so each chunk pads to its own longest row, then restore the order."""
        if len(rows) == 0 or isinstance(rows, np.ndarray) and rows.dtype != object:
            return super().evaluate(rows)
        lengths = np.array([len(r) for r in rows])
        order = np.argsort(lengths, kind="stable")
        buckets = np.ceil(np.log2(np.maximum(lengths[order], 1))).astype(int)
        parts = []
        for b in np.unique(buckets):
            idx = order[buckets == b]
            parts.append((idx, super().evaluate([rows[i] for i in idx])))
        out = np.empty((len(rows), parts[0][1].shape[1]))
        for idx, p in parts:
            out[idx] = p
        return out

    # ----- gradients and attention -------------------------------------------------------------------
    def gradient_groups(self, batch: Batch, ratio: float = 1.25) -> list[np.ndarray]:
        """Examples sorted by token count and cut where a length exceeds ``ratio`` x the group's shortest,
        so a gradient pass over many path points never pads short sentences to the batch's longest."""
        lengths = np.array([len(d.ids) for d in batch.docs])  # type: ignore[union-attr]
        order = np.argsort(lengths, kind="stable")
        groups: list[list[int]] = []
        for i in order:
            if not groups or lengths[i] > ratio * lengths[groups[-1][0]]:
                groups.append([])
            groups[-1].append(int(i))
        return [np.array(g) for g in groups]

    def gradient_space(self, batch: Batch) -> "EmbeddingGradientSpace":
        return EmbeddingGradientSpace(self, batch)

    @contextlib.contextmanager
    def eager_attention(self) -> Iterator[None]:
        """Attention weights need the eager implementation; the model's own setting is restored afterwards."""
        before = getattr(self.model.config, "_attn_implementation", None)
        if before not in (None, "eager"):
            self.model.set_attn_implementation("eager")
        try:
            yield
        finally:
            if before not in (None, "eager"):
                self.model.set_attn_implementation(before)

    def attentions(self, batch: Batch) -> list[torch.Tensor]:
        """Per example a (layers, heads, T, T) tensor of attention weights."""
        out = []
        with self.eager_attention(), torch.inference_mode():
            for lo in range(0, len(batch), 32):
                docs = batch.docs[lo:lo + 32]  # type: ignore[index]
                ids, mask = self.tokenize([d.ids for d in docs])
                att = self.model(input_ids=ids, attention_mask=mask, output_attentions=True).attentions
                self.counts.rows += len(docs)
                self.counts.forwards += 1
                stacked = torch.stack(att, dim=1)  # (b, L, H, T, T)
                for i, d in enumerate(docs):
                    n = len(d.ids)
                    out.append(stacked[i, :, :, :n, :n].float().cpu())
        return out


class EmbeddingGradientSpace(GradientSpace):
    """Gradients with respect to the word-piece embeddings (B, T, D); padding handled by attention masks."""

    def __init__(self, model: HuggingFaceTextModel, batch: Batch):
        self.model = model
        self.docs = batch.docs
        self.ids, self.mask = model.tokenize([d.ids for d in batch.docs])  # type: ignore[union-attr]
        self.lengths = self.mask.sum(1)
        self.embed = model.input_embeddings()
        with torch.no_grad():
            self.x = self.embed(self.ids).detach()
        # activations of a (T x T) attention per layer dominate memory: bound rows x tokens per backward pass
        self.max_rows = max(1, 2048 // self.ids.shape[1])
        special = np.zeros(self.ids.shape, dtype=bool)
        for i, d in enumerate(batch.docs):  # type: ignore[arg-type]
            special[i, :len(d.ids)] = d.token_feature < 0
        self.special = torch.from_numpy(special).to(self.ids.device)

    @property
    def chunk_key(self) -> tuple:
        return ("gradient-tokens", 1 << int(np.ceil(np.log2(max(self.ids.shape[1], 1)))))

    def logits(self, z: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """Trimmed to the longest of ``rows``: the padding past it is masked out anyway (its gradient is 0)."""
        n = int(self.lengths[rows].max())
        return self.model._logits(inputs_embeds=z[:, :n], attention_mask=self.mask[rows, :n])

    def baseline(self, spec: object) -> torch.Tensor:
        """'pad' / 'mask': every non-special token replaced by [PAD] / [MASK]; 'zeros': zero embeddings there."""
        keep = (self.special | (self.mask == 0))[..., None]
        if isinstance(spec, str):
            if spec == "zeros":
                return torch.where(keep, self.x, torch.zeros_like(self.x))
            token = {"pad": self.model.pad_id, "mask": self.model.mask_id}.get(spec)
            if spec not in ("pad", "mask"):
                raise InputError(f"unknown text baseline {spec!r}; use 'pad', 'mask', 'zeros' or an embedding tensor.")
            if token is None:
                raise InputError(f"the tokenizer has no {spec} token; use baseline='pad' or 'zeros'.")
            with torch.no_grad():
                other = self.embed(torch.where(keep[..., 0], self.ids, torch.full_like(self.ids, token)))
            return other.detach()
        b = torch.as_tensor(np.asarray(spec) if not isinstance(spec, torch.Tensor) else spec,
                            dtype=self.x.dtype, device=self.x.device)
        return torch.where(keep, self.x, b.expand_as(self.x))

    def attributions(self, elementwise: torch.Tensor, reduce: str = "sum") -> list[np.ndarray]:
        e = elementwise.detach().float()
        per_token = e.norm(dim=-1) if reduce == "norm" else (e.abs().sum(-1) if reduce == "abs" else e.sum(-1))
        per_token = per_token.cpu().numpy()
        return [d.to_features(per_token[i, :len(d.ids)]).astype(np.float32) for i, d in enumerate(self.docs)]

    def noise_scale(self) -> torch.Tensor:
        """(B,) value range over each example's own tokens (padding excluded, so batches do not matter)."""
        spans = [self.x[i, :len(d.ids)] for i, d in enumerate(self.docs)]
        return torch.stack([(e.max() - e.min()).clamp_min(1e-8) for e in spans])

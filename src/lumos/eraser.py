"""The ERASER benchmark layout (DeYoung et al. 2020), so users can bring ERASER datasets offline.

A dataset folder holds ``docs/`` (one whitespace-tokenised file per docid, or ``docs.jsonl``) and
``{train,val,test}.jsonl`` annotations: {"annotation_id", "classification", "query", "evidences":
[[{"docid", "start_token", "end_token", "text"}, ...], ...]}. Token offsets are whitespace tokens, the same
units as lumos's word-level text features, so an example's rationale is a boolean mask over its words.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InputError
from .rationales import from_spans


@dataclass(frozen=True)
class EraserExample:
    annotation_id: str
    docid: str
    text: str  # the document's tokens joined by single spaces
    label: str
    rationale: np.ndarray  # (n_words,) bool: the union of the evidence spans in this document
    spans: tuple[tuple[int, int], ...]
    query: str | None = None


def _read_docs(root: Path) -> dict[str, str]:
    if (root / "docs.jsonl").exists():
        docs = {}
        for line in (root / "docs.jsonl").read_text().splitlines():
            if line.strip():
                d = json.loads(line)
                docs[d["docid"]] = d["document"]
        return docs
    if (root / "docs").is_dir():
        return {p.name: p.read_text() for p in (root / "docs").iterdir() if p.is_file()}
    raise InputError(f"{root} has neither docs/ nor docs.jsonl; is it an ERASER dataset folder?")


def load(root: str | Path, split: str = "test") -> list[EraserExample]:
    """Examples of one split, one per (annotation, evidence document)."""
    root = Path(root)
    path = root / f"{split}.jsonl"
    if not path.exists():
        raise InputError(f"no {path}; ERASER splits are train.jsonl, val.jsonl and test.jsonl.")
    docs = _read_docs(root)
    out = []
    for n, line in enumerate(path.read_text().splitlines()):
        if not line.strip():
            continue
        ann = json.loads(line)
        by_doc: dict[str, list[tuple[int, int]]] = {}
        for group in ann.get("evidences", []):
            for ev in group:
                by_doc.setdefault(ev["docid"], []).append((int(ev["start_token"]), int(ev["end_token"])))
        docids = list(by_doc) or [ann.get("docids", [ann["annotation_id"]])[0]]
        for docid in docids:
            if docid not in docs:
                raise InputError(f"{path}:{n + 1} names document {docid!r}, which is not in the docs.")
            words = docs[docid].split()
            span_list = tuple(sorted(by_doc.get(docid, [])))
            out.append(EraserExample(ann["annotation_id"], docid, " ".join(words), str(ann["classification"]),
                                     from_spans(span_list, len(words)), span_list, ann.get("query")))
    return out

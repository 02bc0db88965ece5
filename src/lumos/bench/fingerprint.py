"""What a run was made with, so that resuming it with another model or other data is refused instead of mixing
two models' results under one run id (the run id hashes the spec, not the model).

A fingerprint holds the model's class, labels and weights hash (``Model.weights_hash``: parameters, a fitted
estimator, preprocessing), the zoo entry it came from (recipe version, settings, training data hash, the
sha256 of the cached weights), a hash of the run's examples, and the model's predictions on the first 1,000 of
them (a changed model is caught even when lumos cannot read its weights, as for callables).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

PREDICTION_TOLERANCE = 1e-4  # batch sizes may reassociate float sums; a different model moves far more


def fingerprint(model: Any, data_hash: str, n_examples: int, predictions: np.ndarray,
                zoo_meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """The fingerprint of a run about to be made (or resumed) with ``model`` on ``n_examples`` examples whose
    stored rows hash to ``data_hash``; ``predictions``: the model's on the first of them."""
    zoo = None
    if zoo_meta:
        zoo = {"name": zoo_meta.get("name"), "recipe_version": zoo_meta.get("recipe_version"),
               "config": zoo_meta.get("config"), "data_hash": zoo_meta.get("data_hash"),
               "weights_sha256": (zoo_meta.get("sha256") or {}).get("weights.safetensors"),
               "pretrained": zoo_meta.get("pretrained", False)}
    return {"model_class": type(model).__name__, "labels": list(model.labels or []),
            "weights": model.weights_hash(), "zoo": zoo,
            "data": data_hash, "n_examples": int(n_examples),
            "predictions": np.round(np.asarray(predictions, dtype=np.float64), 6).tolist()}


def differences(then: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What differs between two fingerprints, in words (empty: the same model on the same data)."""
    out = []
    if then.get("model_class") != now.get("model_class"):
        out.append(f"the model is a {now.get('model_class')}, it was a {then.get('model_class')}")
    if then.get("labels") != now.get("labels"):
        out.append(f"labels {now.get('labels')}, they were {then.get('labels')}")
    if then.get("weights") and now.get("weights") and then["weights"] != now["weights"]:
        out.append(f"weights {_short(now['weights'])}, they were {_short(then['weights'])}")
    zoo_then, zoo_now = then.get("zoo") or {}, now.get("zoo") or {}
    for key in ("name", "recipe_version", "config", "data_hash", "weights_sha256"):
        if zoo_then.get(key) != zoo_now.get(key):
            out.append(f"zoo {key} {_short(zoo_now.get(key))}, it was {_short(zoo_then.get(key))}")
    if then.get("data") != now.get("data"):
        out.append(f"the examples differ (data hash {_short(now.get('data'))}, it was {_short(then.get('data'))})")
    elif then.get("predictions") is not None and now.get("predictions") is not None:
        a, b = np.asarray(then["predictions"]), np.asarray(now["predictions"])
        if a.shape != b.shape:
            out.append(f"predictions of shape {b.shape}, they were {a.shape}")
        else:
            moved = np.abs(a - b).max(axis=1) > PREDICTION_TOLERANCE if a.size else np.zeros(0, bool)
            if moved.any():
                out.append(f"the model's predictions differ on {int(moved.sum())} of {len(a)} examples (largest "
                           f"change {np.abs(a - b).max():.3g})")
    return out


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text[:12] + "..." if isinstance(value, str) and len(text) > 16 else text[:80]
